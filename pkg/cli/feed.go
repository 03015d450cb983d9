package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/feeds"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
)

// NewCmdFeed builds `ksn feed` and its subcommands.
func NewCmdFeed(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "feed",
		Short: "Load threat-intelligence feeds into the local reputation database",
	}
	cmd.AddCommand(NewCmdFeedImport(f, nil))
	return cmd
}

// FeedImportOptions are `ksn feed import`'s flags and dependencies.
type FeedImportOptions struct {
	IO     *term.IOStreams
	OpenDB func(ctx context.Context) (FeedDB, error)
	Files  []string
	Format feeds.Format
	DB     string
}

// NewCmdFeedImport builds `ksn feed import`.
func NewCmdFeedImport(f *Factory, runF func(*FeedImportOptions) error) *cobra.Command {
	opts := &FeedImportOptions{IO: f.IO}
	var format string
	names := []string{string(feeds.Auto)}
	for _, ff := range feeds.Formats {
		names = append(names, string(ff))
	}
	cmd := &cobra.Command{
		Use:   "import [flags] <file>...",
		Short: "Import feed files (MalwareBazaar, ClamAV .hdb/.hsb, known-good lists, URLhaus, link lists)",
		Long: `Import threat-intelligence feed files into the reputation database.

File formats: the MalwareBazaar CSV export (plain, .gz or the published
.zip), ClamAV hash databases (.hdb: MD5, .hsb: SHA-256), and known-good
lists (one hex digest per line, optionally followed by a name; imported as
clean).

Link formats: URLhaus CSV dumps (csv.txt, csv_recent), and plain lists of
links or host names, one a line, optionally followed by a verdict
(malicious, the default; suspicious; clean) and a threat name. A link is
kept as its canonical host and path, and its query when it has one: a
listing without a query matches the path whatever query a visit adds, one
with a query matches that query only, and a host name (or a link to "/")
covers the whole host and its subdomains.

The format is detected unless --format names it.

Importing the same file again changes nothing. A malformed line is counted
and reported with its line number; the rest of the file still imports.`,
		Example: `  ksn feed import recent.csv
  ksn feed import csv_recent.txt blocked-hosts.txt
  ksn feed import --format clamav-hsb main.hsb daily.hsb`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ff, err := feeds.ParseFormat(format)
			if err != nil {
				return usageError("formats: "+strings.Join(names, ", "), "--format: %v", err)
			}
			opts.Files, opts.Format = args, ff
			opts.OpenDB = func(ctx context.Context) (FeedDB, error) { return f.OpenFeedDB(ctx, opts.DB) }
			if runF != nil {
				return runF(opts)
			}
			return runFeedImport(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&format, "format", "auto", "feed format: "+strings.Join(names, ", "))
	cmd.Flags().StringVar(&opts.DB, "db", "", "reputation database `PATH`, or a server database's postgres:// URL (default: the local database)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runFeedImport(ctx context.Context, opts *FeedImportOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	db, err := opts.OpenDB(ctx)
	if err != nil {
		return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot open the reputation database: %w", err)}
	}
	defer db.Close()
	var failed int
	for _, path := range opts.Files {
		if err := importOne(ctx, opts, db, path); err != nil {
			var ec *exitcode.Error
			if errors.As(err, &ec) && ec.Silent {
				return err
			}
			opts.IO.Errorf("%s", term.SafeText(err.Error()))
			failed++
		}
	}
	if failed > 0 {
		return exitcode.Silent(exitcode.Usage)
	}
	return nil
}

func importOne(ctx context.Context, opts *FeedImportOptions, db feeds.Database, path string) error {
	var count atomic.Int64
	progress := opts.IO.StartProgress(term.ProgressDelay, func() string {
		return fmt.Sprintf("importing %s: %d indicators", filepath.Base(path), count.Load())
	})
	res, err := feeds.ImportFile(ctx, db, path, opts.Format, &count)
	progress.Stop()
	if err != nil {
		return err
	}
	sum, stats := res.Summary, res.Stats
	fmt.Fprintf(opts.IO.Out, "%s (%s): %d indicators: %d added, %d updated, %d unchanged in %s\n",
		term.SafeText(path), res.Format, sum.Indicators, stats.Added, stats.Updated, stats.Unchanged,
		term.Duration(res.Elapsed))
	if sum.Malformed > 0 {
		noun := "lines"
		if sum.Malformed == 1 {
			noun = "line"
		}
		opts.IO.Warnf("%s: %d malformed %s skipped", term.SafeText(path), sum.Malformed, noun)
		for _, le := range sum.Errors {
			fmt.Fprintf(opts.IO.ErrOut, "  %s\n", term.SafeText(le.Error()))
		}
		if extra := sum.Malformed - len(sum.Errors); extra > 0 {
			fmt.Fprintf(opts.IO.ErrOut, "  ... and %d more\n", extra)
		}
	}
	return nil
}
