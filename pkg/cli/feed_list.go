package cli

import (
	"time"

	"github.com/ksnproject/ksn/pkg/report"
	"github.com/spf13/cobra"
)

// NewCmdFeedList builds `ksn feed list`.
func NewCmdFeedList(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show each feed: format, URL, last update, ETag, indicators, age",
		Long: `Show every configured feed: whether it is enabled, its format and URL, when
it was last updated and last known current (imported, or answered "not
modified"), its age, the ETag its server gave, and how many indicators it
added to the database. A feed older than feed.max_age (default 7d) is
marked stale. It reads the local state only; nothing is downloaded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := f.LoadFeedListing()
			if err != nil {
				return err
			}
			entries := l.Entries(time.Now())
			return report.Feeds(f.IO, entries, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the feeds as a JSON array (schema in the README)")
	return cmd
}
