package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/feeds"
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
)

// NewCmdFeed builds `ksn feed` and its subcommands.
func NewCmdFeed(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "feed",
		Short: "Keep threat-intelligence feeds in the local reputation database",
		Long: `Threat-intelligence feeds fill the local reputation database. 'ksn feed
update' downloads the configured feeds (built in: MalwareBazaar's recent
export, URLhaus's recent dump and its host file); 'ksn feed import' loads
files you have. Neither sends anything about your files, so both work
whether or not you participate; no other command ever starts a download.`,
	}
	cmd.AddCommand(NewCmdFeedImport(f), NewCmdFeedUpdate(f), NewCmdFeedList(f), NewCmdFeedAdd(f), NewCmdFeedRemove(f))
	return cmd
}

// FeedImportOptions are `ksn feed import`'s flags.
type FeedImportOptions struct {
	Files         []string
	Format        feeds.Format
	DB            string
	AllowUnsigned bool
	JSON          bool
}

// NewCmdFeedImport builds `ksn feed import`.
func NewCmdFeedImport(f *Factory) *cobra.Command {
	opts := &FeedImportOptions{}
	var format string
	names := []string{string(feeds.Auto)}
	for _, ff := range feeds.Formats {
		names = append(names, string(ff))
	}
	cmd := &cobra.Command{
		Use:   "import [flags] <file>...",
		Short: "Import feed files (MalwareBazaar, ClamAV databases, known-good lists, URLhaus, link lists)",
		Long: `Import threat-intelligence feed files into the reputation database.

File formats: the MalwareBazaar CSV export (plain, .gz or the published
.zip), ClamAV hash databases (.hdb: MD5, .hsb: SHA-256), ClamAV's signed
containers (.cvd, .cld: their .hdb and .hsb members are malicious, .hdu
and .hsu suspicious, the rest is skipped), and known-good lists (one hex
digest per line, optionally followed by a name; imported as clean).

A .cvd must be signed with ClamAV's key (--allow-unsigned imports one that
is not) and its archive must have the MD5 its header states; otherwise
nothing of it is imported. A .cld is checked by neither, as ClamAV does
not check it: it is rewritten by incremental updates.

Link formats: URLhaus CSV dumps (csv.txt, csv_recent), URLhaus's host
file (each host listed as a whole), and plain lists of links or host
names, one a line, optionally followed by a verdict (malicious, the
default; suspicious; clean) and a threat name. A link is kept as its
canonical host and path, and its query when it has one: a listing without
a query matches the path whatever query a visit adds, one with a query
matches that query only, and a host name (or a link to "/") covers the
whole host and its subdomains.

The format is detected unless --format names it; '-' reads standard
input, which needs --format.

Importing the same file again changes nothing. A malformed line is counted
and reported with its line number; the rest of the file still imports.`,
		Example: `  ksn feed import recent.csv
  ksn feed import csv_recent.txt blocked-hosts.txt
  ksn feed import /var/lib/clamav/daily.cvd /var/lib/clamav/main.cvd
  curl -s https://example.org/list.txt | ksn feed import --format url-list -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ff, err := feeds.ParseFormat(format)
			if err != nil {
				return usageError("formats: "+strings.Join(names, ", "), "--format: %v", err)
			}
			if slices.Contains(args, "-") && ff == feeds.Auto {
				return usageError("name the format: ksn feed import --format url-list -", "standard input needs --format")
			}
			opts.Files, opts.Format = args, ff
			ctx := cmd.Context()
			fresh := feeds.NoteFresh(opts.DB)
			db, err := f.OpenFeedDB(ctx, opts.DB)
			if err != nil {
				_ = fresh.Discard()
				return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot open the reputation database: %w", err)}
			}
			defer db.Close()
			out := report.NewImports(f.IO, opts.JSON)
			defer func() {
				if out.Failed == len(opts.Files) { // a new database with nothing imported
					db.Close()
					_ = fresh.Discard()
				}
			}()
			for _, path := range opts.Files {
				res, err := importOne(ctx, f.IO, opts, db, path)
				var ec *exitcode.Error
				if errors.As(err, &ec) && ec.Silent {
					return err
				}
				out.Add(path, res, err)
			}
			return out.Finish()
		},
	}
	cmd.Flags().StringVar(&format, "format", "auto", "feed format: "+strings.Join(names, ", "))
	cmd.Flags().StringVar(&opts.DB, "db", "", "reputation database `PATH`, or a server database's postgres:// URL (default: the local database)")
	cmd.Flags().BoolVar(&opts.AllowUnsigned, "allow-unsigned", false, "import a ClamAV .cvd that is not signed with ClamAV's key (its MD5 must still match)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON array, an object for each file (schema in the README)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func importOne(ctx context.Context, ios *term.IOStreams, opts *FeedImportOptions, db feeds.Database, path string) (feeds.Imported, error) {
	count, progress := report.StartImportProgress(ios, path)
	defer progress.Stop()
	return feeds.ImportPath(ctx, db, path, ios.In, feeds.ImportOptions{Format: opts.Format, Count: count, AllowUnsigned: opts.AllowUnsigned})
}
