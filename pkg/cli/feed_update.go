package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/feeds"
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
)

// FeedUpdateOptions are `ksn feed update`'s arguments and dependencies.
type FeedUpdateOptions struct {
	IO    *term.IOStreams
	Open  func(ctx context.Context) (*feeds.Updater, error)
	Names []string
	Force bool
	JSON  bool
}

// NewCmdFeedUpdate builds `ksn feed update`.
func NewCmdFeedUpdate(f *Factory) *cobra.Command {
	opts := &FeedUpdateOptions{IO: f.IO, Open: f.OpenFeedUpdater}
	cmd := &cobra.Command{
		Use:   "update [NAME...]",
		Short: "Download the configured feeds and import what changed",
		Long: `Download the configured feeds (all enabled ones, or those named) over HTTPS
and import each, as freshclam does for ClamAV. Each request is conditional
(ETag, Last-Modified): a feed that did not change costs one "304 Not
Modified" and no import. A download must be complete (its announced length,
a gzip stream to its checksum) before anything of it is imported, and each
feed is imported all or nothing: a failed or cut download leaves the
database as it was. The proxy setting is honoured.

One line per feed says what happened: added, updated, unchanged, or failed
and why. It sends the feeds' URLs, nothing about your files, so it works
whether or not you participate. No other command starts it.

Feeds are settings: 'ksn config set feed.NAME.url URL' points a feed at a
mirror, 'ksn feed add' adds your own, 'ksn feed remove' removes it (or
disables a built-in one). Exit status: 0 when every feed updated or was
unchanged, else that of the first failure (4 unreachable, 5 refused, 6
rate-limited, 7 any other failure, 2 a configuration problem).`,
		Example: `  ksn feed update
  ksn feed update urlhaus-recent
  ksn config set feed.malwarebazaar-recent.url https://mirror.example.org/mb/recent.csv`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = args
			return runFeedUpdate(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "download every feed again, ignoring what the last update remembers")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON array, an object for each feed (schema in the README)")
	return cmd
}

func runFeedUpdate(ctx context.Context, opts *FeedUpdateOptions) error {
	u, err := opts.Open(ctx)
	if err != nil {
		return err
	}
	defer u.Close()
	todo, err := feeds.Select(u.Feeds, opts.Names)
	if err != nil {
		return err
	}
	if len(todo) == 0 && !opts.JSON {
		fmt.Fprintln(opts.IO.Out, "no feed is enabled ('ksn feed list' shows them)")
		return nil
	}
	u.Force = opts.Force
	var progress *term.Progress
	u.Bytes, progress = report.StartDownloadProgress(opts.IO)
	results, err := u.Update(ctx, todo)
	progress.Stop()
	if err := report.Updates(opts.IO, results, opts.JSON); err != nil {
		return err
	}
	if err != nil {
		return &exitcode.Error{Code: exitcode.ServiceError, Err: err}
	}
	return feeds.Failure(results)
}

// NewCmdFeedAdd builds `ksn feed add`.
func NewCmdFeedAdd(f *Factory) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "add NAME URL",
		Short: "Add a feed of your own for 'ksn feed update' to fetch",
		Long: `Add a feed: 'ksn feed update' then downloads URL and imports it under NAME
(verdicts name it as their source). NAME is lower-case letters, digits and
dashes. The URL must be https:// (plain http:// only on this machine, or
with insecure_transport). Nothing is downloaded now. The feed is two
settings, feed.NAME.url and feed.NAME.format.`,
		Example: `  ksn feed add my-blocklist https://lists.example.org/hosts.txt --format url-list
  ksn feed update my-blocklist`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, url := args[0], args[1]
			l, err := f.LoadFeedListing()
			if err != nil {
				return err
			}
			if err := l.Add(name, url, format); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "added feed %s (%s) from %s; fetch it with: ksn feed update %s\n", name, strings.ToLower(format), term.SafeText(url), name)
			return nil
		},
	}
	var names []string
	for _, ff := range feeds.Fetchable() {
		names = append(names, string(ff))
	}
	cmd.Flags().StringVar(&format, "format", "auto", "the feed's format: "+strings.Join(names, ", "))
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// NewCmdFeedRemove builds `ksn feed remove`.
func NewCmdFeedRemove(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a feed of your own, or disable a built-in one",
		Long: `Remove a feed added with 'ksn feed add': its settings go, and 'ksn feed
update' no longer fetches it. A built-in feed cannot be removed; it is
disabled instead ('ksn config unset feed.NAME.enabled' enables it again).
What the feed already imported stays in the database.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if config.IsBuiltin("feed", name) {
				paths, err := f.Paths()
				if err != nil {
					return err
				}
				if err := feeds.Disable(paths, name); err != nil {
					return err
				}
				fmt.Fprintf(f.IO.Out, "disabled built-in feed %s (enable it again: ksn config unset feed.%s.enabled); what it imported stays in the database\n", name, name)
				return nil
			}
			l, err := f.LoadFeedListing()
			if err != nil {
				return err
			}
			if err := l.Remove(name, func(err error) { f.IO.Warnf("%v", err) }); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "removed feed %s; what it imported stays in the database\n", name)
			return nil
		},
	}
}
