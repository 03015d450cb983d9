package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ksnproject/ksn/pkg/check"
	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/network"
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
)

// CheckOptions are `ksn check`'s flags and dependencies.
type CheckOptions struct {
	IO        *term.IOStreams
	OpenLocal func(ctx context.Context) (Local, error)
	// Consent is the participation state, which decides whether records
	// go to the outbox and whether the network is asked; nil: neither.
	Consent func(ctx context.Context) (*network.Consent, error)

	check.Flags // --format, --hash, --json, --quiet, -0, --files-from, --workers
	Inputs      []string
	Recursive   bool
	Follow      bool
	Algorithms  []check.Algorithm
	FailOn      reputation.Verdict
	NoCache     bool // --no-cache or KSN_NO_CACHE: ask the network every time
	Rehash      bool // --rehash: hash every file whatever the stat cache says
	Mail        *check.MailOptions
	// StatCache is the stat cache file in the cache directory ("" when
	// ksn's directories cannot be found: then every file is hashed).
	StatCache string
}

// NewCmdCheck builds `ksn check`. runF replaces the run function in tests
// that only want to see the parsed options.
func NewCmdCheck(f *Factory, runF func(*CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: f.IO}
	var failOn string
	cmd := &cobra.Command{
		Use:   "check [flags] <path>...",
		Short: "Hash files and look up their reputation",
		Long: `Hash files (one read of each file feeds every digest) and look the digests up
in the local reputation database.

Inputs are files, directories with -r, - for standard input, or a list of
paths with --files-from (newline-separated, or NUL-separated with -0, so
'find . -print0 | ksn check --files-from - -0' works). Named pipes, devices
and sockets are never read: reading one could block forever. Under -r they are
reported as skipped; named explicitly they are errors. Symlinks met under -r
are not followed unless --follow, and then loops are detected.

Besides the digests asked for with --hash, ksn computes any digest that the
local database holds indicators for (for example MD5 after importing a ClamAV
.hdb file), so that every indicator can match.

Mail is read: a message (.eml, or found by its header) and an mbox (each
message in turn) have each attachment and picture checked as an object of
its own, named 'message.eml › invoice.zip', and a message is as bad as its
worst part. A malformed message is reported and the others still checked.
While you participate at the extended level (or do not participate yet),
each message's spam statistics are kept for the network: digests and the
public addresses of its relays, never an address, subject or body.

A stat cache in ksn's cache directory remembers the digests of the files it
hashed with their device, inode, size, mtime and ctime: a file unchanged since
is not read again (the summary counts it as unchanged), but its verdict is
always looked up again. Files modified less than the file system's timestamp
granularity before they were hashed are hashed again next time. Files named
one by one are hashed without the cache until they add up to more than reading
it costs. --rehash reads every file whatever the cache says.`,
		Example: `  ksn check -r ~/Downloads
  ksn check --json suspicious.exe | jq .verdict
  ksn check --format sha256sum -r dist > SHA256SUMS && sha256sum -c SHA256SUMS
  find / -xdev -type f -mtime -1 -print0 | ksn check --files-from - -0`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = args
			var err error
			if opts.Algorithms, err = opts.Flags.Algorithms(); err != nil {
				return err
			}
			if opts.FailOn, err = parseFailOn(failOn); err != nil {
				return err
			}
			if len(args) == 0 && opts.FilesFrom == "" {
				if f.IO.IsStdinTTY() {
					return usageError("name files or directories (with -r), '-' for standard input, or use --files-from", "nothing to check")
				}
				// As sha256sum does: data piped in is the input.
				opts.Inputs = []string{"-"}
			}
			opts.OpenLocal = f.OpenLocal
			opts.Consent = f.LoadConsent
			opts.Mail = &check.MailOptions{}
			if paths, err := f.Paths(); err == nil {
				opts.StatCache = filepath.Join(paths.Cache, "statcache")
				// A bad setting is reported by the participation state's
				// load; here it only costs the relays.
				if st, err := config.LoadSettings(paths, f.Env); err == nil {
					if opts.Mail.Relays, err = check.ParseRelays(st.String("mail.own_relays")); err != nil {
						return usageError("e.g. ksn config set mail.own_relays '192.0.2.25, 2001:db8::/48'", "mail.own_relays: %v", err)
					}
				}
			}
			if v := f.Env("KSN_NO_CACHE"); v != "" && v != "0" {
				opts.NoCache = true
			}
			if runF != nil {
				return runF(opts)
			}
			return runCheck(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.Recursive, "recursive", "r", false, "check the files under directories")
	fl.BoolVar(&opts.Follow, "follow", false, "follow symlinks found under directories (loops are detected)")
	fl.StringVar(&opts.FilesFrom, "files-from", "", "read the paths to check from `FILE` (- for standard input)")
	fl.BoolVarP(&opts.Null, "null", "0", false, "paths in --files-from are separated by NUL, not newline")
	fl.StringVar(&opts.Hash, "hash", "blake3,sha256", "digests to compute: blake3, sha256, sha1, md5 (comma-separated)")
	fl.BoolVar(&opts.JSON, "json", false, "print one JSON object per input (NDJSON), in input order")
	fl.StringVar(&opts.Format, "format", "", "print checksum lines for `sha256sum|b3sum` -c instead of verdicts")
	fl.StringVar(&failOn, "fail-on", "malicious", "exit 1 when an object is at least this bad: malicious or suspicious")
	fl.IntVar(&opts.Workers, "workers", 0, "files hashed at once, at most 256 (default: the number of CPUs)")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only objects at or above --fail-on (and the summary), like clamscan -i")
	fl.BoolVar(&opts.NoCache, "no-cache", false, "ask the network even about files it answered recently (also KSN_NO_CACHE=1)")
	fl.BoolVar(&opts.Rehash, "rehash", false, "read every file, even those the stat cache knows unchanged (the cache is refreshed)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"sha256sum", "b3sum"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"malicious", "suspicious"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("hash", cobra.FixedCompletions([]string{"blake3", "sha256", "sha1", "md5"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runCheck(ctx context.Context, opts *CheckOptions) error {
	early := network.LoadEarly(ctx, opts.Consent)
	defer early.Release()
	cache := check.OpenStatCache(opts.StatCache, opts.Recursive && !opts.Rehash)
	local, err := openLocal(ctx, opts.OpenLocal)
	if err != nil {
		return err
	}
	var use network.Use
	defer func() { network.CloseTogether(func() { local.Close() }, use.Collector.Close) }()

	inputs, stdin, closeInputs, err := check.Inputs(opts.Inputs, opts.FilesFrom, opts.Null, opts.IO.In)
	if err != nil {
		return err
	}
	defer closeInputs()
	counts, progress := report.StartCheckProgress(opts.IO)
	defer progress.Stop()
	rep := report.NewChecks(opts.IO, report.CheckOptions{JSON: opts.JSON, Format: opts.Format, Quiet: opts.Quiet, FailOn: opts.FailOn}, progress)

	sum, runErr := check.Run(ctx, check.Options{
		Inputs: inputs, Recursive: opts.Recursive, Follow: opts.Follow, Stdin: stdin,
		Algorithms: opts.Algorithms, Workers: opts.Workers, FailOn: opts.FailOn, Progress: counts,
		// Sizing a walk costs a stat per file: only for a progress line.
		SizeWalks: opts.IO.IsStderrTTY(), StatCache: cache, Rehash: opts.Rehash, Mail: opts.Mail,
	}, check.Config{
		Sources: []reputation.Source{local.Source},
		Sink:    rep,
		Warn:    func(msg string) { progress.Around(func() { opts.IO.Warnf("%s", msg) }) },
		Network: func(ctx context.Context) ([]reputation.Source, check.Collector) {
			use = network.Open(ctx, opts.IO, early.Loader(), network.SessionOptions{
				Msg: opts.IO, Cache: local.Cache, Fresh: opts.NoCache, Files: true})
			return use.Session.Sources(), use.Collector
		},
	})
	progress.Stop()
	if runErr != nil {
		return rep.Stopped(sum, runErr)
	}
	use.Finish(ctx)
	return rep.Finish(sum, use.Session.Failure())
}

// openLocal opens the local reputation database for a check or a link
// run.
func openLocal(ctx context.Context, open func(context.Context) (Local, error)) (Local, error) {
	local, err := open(ctx)
	if err != nil {
		return local, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot open the reputation database: %w", err),
			Hint: "check that ksn's data directory is writable, or set KSN_HOME to another directory"}
	}
	return local, nil
}

// parseFailOn parses --fail-on, which takes a threat level.
func parseFailOn(s string) (reputation.Verdict, error) {
	v, err := reputation.ParseVerdict(s)
	if err != nil || (v != reputation.Suspicious && v != reputation.Malicious) {
		return v, usageError("use --fail-on malicious (the default) or --fail-on suspicious", "--fail-on: %q is not a threat level", s)
	}
	return v, nil
}
