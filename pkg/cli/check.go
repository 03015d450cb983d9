package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
)

// CheckOptions are `ksn check`'s flags and dependencies.
type CheckOptions struct {
	IO        *term.IOStreams
	OpenStore func(ctx context.Context) (store.Store, error)
	// Consent says whether records go to the outbox; nil collects nothing.
	Consent func(ctx context.Context) (*consent, error)
	// NewClient builds the network client; nil means local verdicts only.
	NewClient func(*consent) (*client.Client, error)

	Inputs     []string
	Recursive  bool
	Follow     bool
	FilesFrom  string
	Null       bool
	Algorithms []checksum.Algorithm
	JSON       bool
	Format     string // "", "sha256sum" or "b3sum"
	FailOn     reputation.Verdict
	Workers    int
	Version    string // ksn's version, for the system record
	NoCache    bool   // --no-cache or KSN_NO_CACHE: ask the network every time
}

// Output formats that other tools can verify with -c.
var sumFormats = map[string]checksum.Algorithm{"sha256sum": checksum.SHA256, "b3sum": checksum.BLAKE3}

// NewCmdCheck builds `ksn check`. runF replaces the run function in tests
// that only want to see the parsed options.
func NewCmdCheck(f *Factory, runF func(*CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: f.IO}
	var hashList, failOn string
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
.hdb file), so that every indicator can match.`,
		Example: `  ksn check -r ~/Downloads
  ksn check --json suspicious.exe | jq .verdict
  ksn check --format sha256sum -r dist > SHA256SUMS && sha256sum -c SHA256SUMS
  find / -xdev -type f -mtime -1 -print0 | ksn check --files-from - -0`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = args
			algs, err := checksum.ParseAlgorithms(hashList)
			if err != nil {
				return usageError("see 'ksn check --help'", "--hash: %v", err)
			}
			if opts.Format != "" {
				a, ok := sumFormats[opts.Format]
				if !ok {
					return usageError("use --format sha256sum or --format b3sum", "--format: unknown format %q", opts.Format)
				}
				if opts.JSON {
					return usageError("", "--json and --format cannot be used together")
				}
				algs = checksum.Canonical(append(algs, a))
			}
			opts.Algorithms = algs
			v, err := reputation.ParseVerdict(failOn)
			if err != nil || (v != reputation.Suspicious && v != reputation.Malicious) {
				return usageError("use --fail-on malicious (the default) or --fail-on suspicious", "--fail-on: %q is not a threat level", failOn)
			}
			opts.FailOn = v
			if len(args) == 0 && opts.FilesFrom == "" {
				return usageError("name files or directories (with -r), '-' for standard input, or use --files-from", "nothing to check")
			}
			if opts.Null && opts.FilesFrom == "" {
				return usageError("use -0 together with --files-from", "-0 only applies to --files-from")
			}
			opts.OpenStore = f.OpenLocalStore
			opts.Consent = func(ctx context.Context) (*consent, error) { return loadConsent(ctx, f) }
			opts.NewClient = func(c *consent) (*client.Client, error) { return newClient(f, c) }
			opts.Version = f.Version
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
	fl.StringVar(&hashList, "hash", "blake3,sha256", "digests to compute: blake3, sha256, sha1, md5 (comma-separated)")
	fl.BoolVar(&opts.JSON, "json", false, "print one JSON object per input (NDJSON), in input order")
	fl.StringVar(&opts.Format, "format", "", "print checksum lines for `sha256sum|b3sum` -c instead of verdicts")
	fl.StringVar(&failOn, "fail-on", "malicious", "exit 1 when an object is at least this bad: malicious or suspicious")
	fl.IntVar(&opts.Workers, "workers", 0, "files hashed at once (default: the number of CPUs)")
	fl.BoolVar(&opts.NoCache, "no-cache", false, "ask the network even about files it answered recently (also KSN_NO_CACHE=1)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"sha256sum", "b3sum"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"malicious", "suspicious"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("hash", cobra.FixedCompletions([]string{"blake3", "sha256", "sha1", "md5"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// checked is one input with its verdict.
type checked struct {
	checksum.Result
	Reputation reputation.Result
}

func (c checked) status() string {
	switch {
	case c.Skipped() != "":
		return "skipped"
	case c.Err != nil:
		return "error"
	}
	return "ok"
}

// lookupBatch bounds how many results wait for one database round trip;
// lookupLinger is how long a partial batch waits for company.
const (
	lookupBatch  = 512
	lookupLinger = 20 * time.Millisecond
)

func runCheck(ctx context.Context, opts *CheckOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	db, err := opts.OpenStore(ctx)
	if err != nil {
		return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot open the reputation database: %w", err),
			Hint: "check that ksn's data directory is writable, or set KSN_HOME to another directory"}
	}
	defer db.Close()

	known, err := db.Algorithms(ctx)
	if err != nil {
		return fmt.Errorf("reading the reputation database: %w", err)
	}
	algs := checksum.Canonical(append(append([]checksum.Algorithm{}, opts.Algorithms...), known...))

	inputs, closeInputs, err := checkInputs(opts)
	if err != nil {
		return err
	}
	defer closeInputs()

	rep := newReporter(opts)
	var stdin io.Reader = opts.IO.In
	if opts.FilesFrom == "-" {
		stdin = nil // it holds the list of paths
	}
	counts := &checksum.Progress{}
	start := time.Now()
	progress := opts.IO.StartProgress(term.ProgressDelay, func() string {
		n, b := counts.Files.Load(), counts.Bytes.Load()
		return fmt.Sprintf("checking: %d files, %s, %s", n, term.Bytes(b), term.Rate(b, time.Since(start)))
	})
	defer progress.Stop()

	// Results flow to a second goroutine that looks them up in batches:
	// one query per result would cost more than hashing a small file. A
	// batch goes out when full, or when no result came for lookupLinger, so
	// a slow file never holds back the lines of the files before it.
	results := make(chan checked, lookupBatch)
	reported := make(chan error, 1)
	var (
		col *collector
		net *network
	)
	go func() {
		// The participation state and the network's status are read
		// while the first files hash: on a fresh install, creating the
		// state database takes as long as hashing a few hundred files.
		col = newCollector(ctx, opts.IO, opts.Consent, opts.Version)
		net = openNetwork(ctx, networkDeps{IO: opts.IO, NewClient: opts.NewClient, NoCache: opts.NoCache, Files: true}, col.consent, db)
		keys := smallKeySet(ctx, db)
		reported <- reportBatches(ctx, db, keys, net, rep, col, results, progress)
	}()
	runErr := checksum.Run(ctx, inputs, checksum.Options{
		Algorithms: algs, Workers: opts.Workers, Recursive: opts.Recursive, Follow: opts.Follow,
		Stdin: stdin, Progress: counts,
	}, func(r checksum.Result, _ bool) error {
		results <- checked{Result: r}
		return nil
	})
	close(results)
	if err := <-reported; runErr == nil {
		runErr = err
	}
	defer col.close()
	progress.Stop()
	if runErr != nil {
		// What was found is still reported, and a threat still decides
		// the exit code (1 before 2).
		if err := rep.finish(time.Since(start)); exitcode.Of(err) == exitcode.Threat {
			opts.IO.Errorf("%v", runErr)
			return err
		}
		var ec *exitcode.Error
		if errors.As(runErr, &ec) {
			return ec
		}
		return &exitcode.Error{Code: exitcode.Usage, Err: runErr}
	}
	col.flush()
	col.wait()
	net.deliver(ctx, col)
	if err := rep.finish(time.Since(start)); err != nil || net.err == nil {
		return err
	}
	return net.failure()
}

// reportBatches looks up and prints results in input order until results is
// closed. It keeps draining after an error so the hashing side never blocks.
func reportBatches(ctx context.Context, db store.Store, keys *store.KeySet, net *network, rep *reporter, col *collector, results <-chan checked, progress *term.Progress) error {
	var batch []checked
	var failed error
	flush := func() {
		if failed == nil && len(batch) > 0 {
			failed = lookup(ctx, db, keys, batch)
			if failed == nil {
				net.lookup(ctx, batch)
				// Printed around the progress line, and flushed: a line
				// is on the screen as soon as its lookup is done.
				progress.Around(func() {
					for _, c := range batch {
						if failed = rep.add(c); failed != nil {
							return
						}
					}
					failed = rep.out.Flush()
				})
				col.add(batch)
			}
		}
		batch = batch[:0]
	}
	linger := time.NewTimer(time.Hour)
	defer linger.Stop()
	for {
		select {
		case c, ok := <-results:
			if !ok {
				flush()
				return failed
			}
			if len(batch) == 0 {
				linger.Reset(lookupLinger)
			}
			batch = append(batch, c)
			if len(batch) >= lookupBatch {
				flush()
			}
		case <-linger.C:
			flush()
			col.flush()
		}
	}
}

// smallIndicators is the most indicators a local database may hold for a
// check to read all their keys into memory first (about 5 ms at the most).
const smallIndicators = 10_000

// smallKeySet returns the keys of a small database's indicators, or nil
// when the database is large (or is not SQLite): see store.SQLite.SmallKeySet.
func smallKeySet(ctx context.Context, db store.Store) *store.KeySet {
	s, ok := db.(interface {
		SmallKeySet(context.Context, int) (*store.KeySet, bool, error)
	})
	if !ok {
		return nil
	}
	keys, ok, err := s.SmallKeySet(ctx, smallIndicators)
	if err != nil || !ok {
		return nil // every lookup asks the database, as for a large one
	}
	return keys
}

// lookup fills in the reputation of every hashed input of the batch with
// one database query. With keys, only the files one of whose digests an
// indicator is keyed by are asked about; the rest are unknown.
func lookup(ctx context.Context, db store.Store, keys *store.KeySet, batch []checked) error {
	var queries []store.FileDigests
	var idx []int
	for i, c := range batch {
		if c.Err != nil {
			continue
		}
		if keys != nil && !keys.MayMatch(store.FileDigests(c.Digests)) {
			batch[i].Reputation = reputation.Result{Verdict: reputation.Unknown}
			continue
		}
		queries = append(queries, store.FileDigests(c.Digests))
		idx = append(idx, i)
	}
	if len(queries) == 0 {
		return nil
	}
	res, err := db.LookupFiles(ctx, queries)
	if err != nil {
		return fmt.Errorf("looking up the reputation database: %w", err)
	}
	if len(res) != len(queries) {
		return fmt.Errorf("reputation database returned %d results for %d files", len(res), len(queries))
	}
	for j, i := range idx {
		batch[i].Reputation = res[j]
	}
	return nil
}

// checkInputs returns the paths to check: the arguments, then the entries
// of --files-from, read as the run goes so a huge list is never held whole.
func checkInputs(opts *CheckOptions) (iter.Seq2[string, error], func(), error) {
	if opts.FilesFrom == "" {
		return func(yield func(string, error) bool) {
			for _, p := range opts.Inputs {
				if !yield(p, nil) {
					return
				}
			}
		}, func() {}, nil
	}
	var r io.Reader
	closer := func() {}
	if opts.FilesFrom == "-" {
		r = opts.IO.In
		for _, p := range opts.Inputs {
			if p == "-" {
				return nil, nil, usageError("read the file list from a file, or pass the data as a file", "standard input cannot be both the --files-from list and an input")
			}
		}
	} else {
		f, err := os.Open(opts.FilesFrom)
		if err != nil {
			return nil, nil, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("--files-from: %w", err)}
		}
		r, closer = f, func() { f.Close() }
	}
	sep := byte('\n')
	if opts.Null {
		sep = 0
	}
	return func(yield func(string, error) bool) {
		for _, p := range opts.Inputs {
			if !yield(p, nil) {
				return
			}
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20) // PATH_MAX is 4096; 1 MiB is generous
		sc.Split(splitOn(sep))
		for sc.Scan() {
			p := sc.Text()
			if sep == '\n' {
				p = strings.TrimSuffix(p, "\r")
				if p == "" {
					continue // blank lines in a hand-written list
				}
			}
			if !yield(p, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield("", &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("--files-from: %w", err)})
		}
	}, closer, nil
}

// splitOn is a bufio.SplitFunc for records ending in sep; a last record
// without its separator still counts.
func splitOn(sep byte) bufio.SplitFunc {
	return func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, sep); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	}
}
