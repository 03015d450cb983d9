package cli

import (
	"cmp"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/ksnproject/ksn/pkg/feeds"
	"github.com/ksnproject/ksn/pkg/term"
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
			if asJSON {
				return writeJSONLine(f.IO, entries)
			}
			printFeeds(f, entries)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the feeds as a JSON array (schema in the README)")
	return cmd
}

func printFeeds(f *Factory, entries []feeds.Entry) {
	sty := f.IO.Styles()
	w := tabwriter.NewWriter(f.IO.Out, 0, 2, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tFORMAT\tSTATE\tUPDATED\tAGE\tINDICATORS\tETAG\tURL")
	for _, e := range entries {
		state := "enabled"
		switch {
		case !e.Enabled:
			state = "disabled"
		case e.LastError != "":
			state = "failed"
		case e.Stale && e.CheckedAt != nil:
			state = "stale"
		}
		updated, age, etag := "never", "-", cmp.Or(e.ETag, "-")
		if e.UpdatedAt != nil {
			updated = e.UpdatedAt.Local().Format("2006-01-02 15:04")
		}
		if e.CheckedAt != nil {
			age = feeds.Ago(e.Age())
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.Name, e.Format, state, updated, age, e.Indicators,
			term.SafeText(etag), term.SafeText(e.URL))
	}
	w.Flush()
	for _, e := range entries {
		if e.LastError != "" && e.Enabled {
			fmt.Fprintf(f.IO.Out, "%s %s: %s\n", sty.Bad.Render("last update failed:"), e.Name, term.SafeText(e.LastError))
		}
	}
}
