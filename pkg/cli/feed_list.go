package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/ksnproject/ksn/pkg/feeds"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
)

// feedJSON is the documented schema of one feed in `ksn feed list --json`.
type feedJSON struct {
	Name         string     `json:"name"`
	Builtin      bool       `json:"builtin"`
	Enabled      bool       `json:"enabled"`
	Format       string     `json:"format"`
	URL          string     `json:"url"`
	UpdatedAt    *time.Time `json:"updated_at"` // last import
	CheckedAt    *time.Time `json:"checked_at"` // last known current (imported or 304)
	AgeSeconds   *int64     `json:"age_seconds"`
	Stale        bool       `json:"stale"`
	ETag         string     `json:"etag"`
	LastModified string     `json:"last_modified"`
	Indicators   int        `json:"indicators"`             // what the feed added to the database
	LastImport   int        `json:"last_import_indicators"` // entries in the last download imported
	LastError    string     `json:"last_error,omitempty"`
}

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
			entries := feeds.List(l.Feeds, l.State, time.Now(), l.MaxAge)
			if asJSON {
				return printFeedsJSON(f, entries)
			}
			printFeeds(f, entries)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the feeds as a JSON array (schema in the README)")
	return cmd
}

func printFeedsJSON(f *Factory, entries []feeds.Entry) error {
	out := make([]feedJSON, 0, len(entries))
	for _, e := range entries {
		j := feedJSON{Name: e.Name, Builtin: e.Builtin, Enabled: e.Enabled, Format: string(e.Format), URL: e.URL,
			Stale: e.Stale, ETag: e.State.ETag, LastModified: e.State.LastModified, Indicators: e.State.Held,
			LastImport: e.State.Indicators, LastError: e.State.LastError}
		if t := e.State.UpdatedAt; !t.IsZero() {
			j.UpdatedAt = &t
		}
		if t := e.State.CheckedAt; !t.IsZero() {
			j.CheckedAt = &t
			age := int64(e.Age / time.Second)
			j.AgeSeconds = &age
		}
		out = append(out, j)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "%s\n", b)
	return nil
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
		case e.State.LastError != "":
			state = "failed"
		case e.Stale && !e.State.CheckedAt.IsZero():
			state = "stale"
		}
		updated, age := "never", "-"
		if t := e.State.UpdatedAt; !t.IsZero() {
			updated = t.Local().Format("2006-01-02 15:04")
		}
		if !e.State.CheckedAt.IsZero() {
			age = feeds.Ago(e.Age)
		}
		etag := e.State.ETag
		if etag == "" {
			etag = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.Name, e.Format, state, updated, age, e.State.Held,
			term.SafeText(etag), term.SafeText(e.URL))
	}
	w.Flush()
	for _, e := range entries {
		if e.State.LastError != "" && e.Enabled {
			fmt.Fprintf(f.IO.Out, "%s %s: %s\n", sty.Bad.Render("last update failed:"), e.Name, term.SafeText(e.State.LastError))
		}
	}
}
