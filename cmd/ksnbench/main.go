// Command ksnbench measures how fast `ksn check` hashes files, next to what
// the hardware allows and to the tools a user would pick instead.
//
// In one run, on the same page-cached inputs — one small file (4 KiB), one
// big file (1 GiB) and a tree of 20,000 files of 1–64 KiB in 100
// directories — it times:
//
//   - ksn: `ksn check --hash blake3,sha256 [-r] INPUT` with every cache off:
//     a fresh KSN_HOME per run (so the local reputation database and the
//     stat cache are created each time, as on first use) and KSN_NO_CACHE=1
//     (the network's verdict cache);
//   - ksn (warm db): the same with one KSN_HOME kept across runs (primed
//     before them; its cache directory, which holds the stat cache, emptied
//     before each), so the difference is what creating the database costs;
//   - on the tree, ksn re-check: the same command again with the stat cache
//     primed and the tree unchanged, against its floor, a stat-only walk:
//     `find TREE -type f -printf '%s %T@\n'` and the same walk in this
//     process (stat-walk);
//   - on the small file, `ksn check FILE` (its databases made by an earlier
//     run) against `ksn --version`, the least a ksn command costs, and the
//     peers, in many interleaved runs (-startup-runs, hyperfine-style);
//   - floor: a bare loop in this process — a directory walk feeds GOMAXPROCS
//     workers, each reads a file once with a reused 256 KiB buffer and writes
//     every chunk to BLAKE3 and SHA-256, nothing else (the big file is one
//     file, so one worker hashes it);
//   - sha256-loop: the same loop with SHA-256 alone;
//   - sha256sum, b3sum, `rhash --sha256` and `hashdeep -c sha256`, each when
//     it is in PATH (Debian packages coreutils, b3sum, rhash, hashdeep).
//     rhash and hashdeep walk the tree themselves (-r); sha256sum and b3sum
//     are given the file list as arguments, in as few command lines as fit
//     ARG_MAX, run one after another like `find | xargs`.
//
// Every run times each contender once, starting one further down the list
// each time, so drift hits all of them alike. The report gives, per input,
// the median and minimum wall time of each contender, its spread (how far
// apart its fastest and slowest runs are: the machine's noise), MB/s, the
// ratio to the floor, how many times faster ksn is than each peer and than
// the SHA-256 loop, ksn's peak RSS (max over runs), and the goals: a
// re-check at least 10× faster than the cold check and within 2× of a
// stat-only walk, `ksn check FILE` within 1.5× of `ksn --version`. Nothing
// is asserted: read the ratios off against the goals.
//
// Run it from the module root:
//
//	go run ./cmd/ksnbench                      # every input, 5 runs
//	go run ./cmd/ksnbench -only tree -runs 3   # a quick look
//	go run ./cmd/ksnbench -only one            # start-up only
//
// The inputs (about 1.7 GB) are generated once in -dir, default
// $TMPDIR/ksnbench, and reused while their parameters match; ksn is built
// into the same directory from this module unless -ksn names a binary.
// The machine needs more free memory than the inputs, or the times measure
// the disk. -skip-ksn (left out of the usage text) times everything but
// ksn, for working on this tool without a ksn binary.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// usage is written for people, not generated from the flag set; -skip-ksn
// is left out on purpose (see the package comment).
const usage = `ksnbench times ksn check against a hashing floor and against sha256sum,
b3sum, rhash and hashdeep, on page-cached inputs; a re-check of the tree
against a stat-only walk; and ksn check of one small file against
ksn --version.

Usage:
    go run ./cmd/ksnbench [flags]

Flags:
    -dir DIR         where inputs are generated and reused (default $TMPDIR/ksnbench)
    -ksn PATH        the ksn binary to time (default: go build ./cmd/ksn into -dir)
    -runs N          timed runs of each contender; median and min are reported (default 5)
    -startup-runs N  timed runs on the one small file, where each takes milliseconds (default 100)
    -only SET        run one input set: one, tree or big
    -big-size SIZE   size of the big file (default 1GiB)
    -files N         files in the tree (default 20000)
    -min-size SIZE   smallest tree file (default 1KiB)
    -max-size SIZE   largest tree file (default 64KiB)
    -json            print the report as JSON

Sizes are bytes or take a unit: 64KiB, 256M, 1GiB.

Examples:
    go run ./cmd/ksnbench -only tree -runs 3
    go run ./cmd/ksnbench -ksn ./ksn -json > bench.json
`

// options are the parsed flags. progress receives progress lines and
// warnings (stderr), so that the report alone goes to stdout and -json output
// stays parseable.
type options struct {
	dir     string
	ksn     string
	skipKSN bool
	runs    int
	// startupRuns are the runs on the one small file: a run takes
	// milliseconds there, and its noise needs many to average out.
	startupRuns int
	only        string
	bigSize     byteSize
	files       int
	minSize     byteSize
	maxSize     byteSize
	jsonOut     bool
	progress    io.Writer
}

// main maps the outcome to an exit status: 0 for a report or -h, 2 for a
// usage error, 1 for a failed run.
func main() {
	opts, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ksnbench: %v\nRun ksnbench -h for the flags.\n", err)
		os.Exit(2)
	}
	rep, err := run(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ksnbench: error: %v\n", err)
		os.Exit(1)
	}
	if opts.jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.writeText(os.Stdout)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ksnbench: error: %v\n", err)
		os.Exit(1)
	}
}

// parseFlags reads the flags and rejects values that could only make a
// meaningless run. The flag set prints nothing itself: -h prints usage, and
// errors are printed once, by main.
func parseFlags(args []string) (*options, error) {
	o := &options{
		bigSize:  1 << 30,
		minSize:  1 << 10,
		maxSize:  64 << 10,
		progress: os.Stderr,
	}
	fs := flag.NewFlagSet("ksnbench", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed once, by main
	fs.StringVar(&o.dir, "dir", filepath.Join(os.TempDir(), "ksnbench"), "")
	fs.StringVar(&o.ksn, "ksn", "", "")
	fs.BoolVar(&o.skipKSN, "skip-ksn", false, "")
	fs.IntVar(&o.runs, "runs", 5, "")
	fs.IntVar(&o.startupRuns, "startup-runs", 100, "")
	fs.StringVar(&o.only, "only", "", "")
	fs.Var(&o.bigSize, "big-size", "")
	fs.IntVar(&o.files, "files", 20000, "")
	fs.Var(&o.minSize, "min-size", "")
	fs.Var(&o.maxSize, "max-size", "")
	fs.BoolVar(&o.jsonOut, "json", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(os.Stdout, usage)
		}
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.runs < 1:
		return nil, fmt.Errorf("-runs must be at least 1")
	case o.startupRuns < 1:
		return nil, fmt.Errorf("-startup-runs must be at least 1")
	case o.only != "" && o.only != "tree" && o.only != "big" && o.only != "one":
		return nil, fmt.Errorf("-only takes one, tree or big, not %q", o.only)
	case o.files < 1:
		return nil, fmt.Errorf("-files must be at least 1")
	case o.maxSize < o.minSize:
		return nil, fmt.Errorf("-max-size (%s) is below -min-size (%s)", &o.maxSize, &o.minSize)
	case o.bigSize < 1:
		return nil, fmt.Errorf("-big-size must be at least 1 byte")
	}
	return o, nil
}
