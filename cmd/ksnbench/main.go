// Command ksnbench measures how fast `ksn check` hashes files, next to what
// the hardware allows and to the tools a user would pick instead.
//
// In one run, on the same page-cached inputs — one big file (1 GiB) and a
// tree of 20,000 files of 1–64 KiB in 100 directories — it times:
//
//   - ksn: `ksn check --hash blake3,sha256 [-r] INPUT` with every cache off:
//     a fresh KSN_HOME per run (so the local reputation database is created
//     each time, as on first use) and KSN_NO_CACHE=1 (the stat cache);
//   - ksn (warm db): the same with one KSN_HOME kept across runs (primed
//     before them; its cache directory emptied before each), so the
//     difference is what creating the database costs;
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
// the median and minimum wall time of each contender, MB/s, the ratio to the
// floor, how many times faster ksn is than each peer and than the SHA-256
// loop, and ksn's peak RSS (max over runs). Nothing is asserted: read the
// ratios off against the targets.
//
// Run it from the module root:
//
//	go run ./cmd/ksnbench                      # both inputs, 5 runs
//	go run ./cmd/ksnbench -only tree -runs 3   # a quick look
//
// The inputs (about 1.7 GB) are generated once in -dir, default
// $TMPDIR/ksnbench, and reused while their parameters match; ksn is built
// into the same directory from this module unless -ksn names a binary.
// The machine needs more free memory than the inputs, or the times measure
// the disk. -skip-ksn (left out of the usage text) times everything but
// ksn, for working on this tool without a ksn binary.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

const usage = `ksnbench times ksn check against a hashing floor and against sha256sum,
b3sum, rhash and hashdeep, on page-cached inputs.

Usage:
    go run ./cmd/ksnbench [flags]

Flags:
    -dir DIR         where inputs are generated and reused (default $TMPDIR/ksnbench)
    -ksn PATH        the ksn binary to time (default: go build ./cmd/ksn into -dir)
    -runs N          timed runs of each contender; median and min are reported (default 5)
    -only SET        run one input set: tree or big
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

type options struct {
	dir      string
	ksn      string
	skipKSN  bool
	runs     int
	only     string
	bigSize  byteSize
	files    int
	minSize  byteSize
	maxSize  byteSize
	jsonOut  bool
	progress io.Writer
}

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
	case o.only != "" && o.only != "tree" && o.only != "big":
		return nil, fmt.Errorf("-only takes tree or big, not %q", o.only)
	case o.files < 1:
		return nil, fmt.Errorf("-files must be at least 1")
	case o.maxSize < o.minSize:
		return nil, fmt.Errorf("-max-size (%s) is below -min-size (%s)", &o.maxSize, &o.minSize)
	case o.bigSize < 1:
		return nil, fmt.Errorf("-big-size must be at least 1 byte")
	}
	return o, nil
}

func run(o *options) (*report, error) {
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	stale, _ := filepath.Glob(filepath.Join(dir, "ksn-home-*"))
	for _, d := range stale {
		os.RemoveAll(d)
	}

	rep := newReport(o.runs)
	var ksn string
	if !o.skipKSN {
		if ksn, rep.KSN, err = findKSN(o.ksn, dir, o.progress); err != nil {
			return nil, err
		}
	}
	for _, p := range peers {
		if v := p.version(); v != "" {
			rep.PeerVersions = append(rep.PeerVersions, v)
		}
	}

	var sets []*inputSet
	if o.only != "big" {
		set, err := prepareTree(dir, o.files, int64(o.minSize), int64(o.maxSize), o.progress)
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	if o.only != "tree" {
		set, err := prepareBig(dir, int64(o.bigSize), o.progress)
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	var inputBytes int64
	for _, s := range sets {
		inputBytes += s.bytes
	}
	if rep.MemAvailable >= 0 && rep.MemAvailable < inputBytes {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf(
			"only %s of memory is available for %s of inputs: they cannot all stay in the page cache, so these times measure the disk, not hashing",
			humanBytes(rep.MemAvailable), humanBytes(inputBytes)))
		fmt.Fprintf(o.progress, "ksnbench: warning: %s\n", rep.Warnings[len(rep.Warnings)-1])
	}

	if rep.LoadAverage >= float64(rep.LogicalCPUs)/2 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf(
			"the load average is %.1f on %d CPUs: other work competes for the CPUs, so times are noisy and ratios less reliable",
			rep.LoadAverage, rep.LogicalCPUs))
		fmt.Fprintf(o.progress, "ksnbench: warning: %s\n", rep.Warnings[len(rep.Warnings)-1])
	}

	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	defer devNull.Close()
	r := &runner{devNull: devNull}
	for _, set := range sets {
		sr, err := benchSet(o, r, ksn, dir, set)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", set.name, err)
		}
		rep.Sets = append(rep.Sets, sr)
	}
	return rep, nil
}

// findKSN returns the ksn binary to time and how it was found: the -ksn
// flag's, or one built from the module the go command is in.
func findKSN(flagValue, dir string, progress io.Writer) (path, origin string, err error) {
	if flagValue != "" {
		path, err := exec.LookPath(flagValue)
		if err != nil {
			return "", "", fmt.Errorf("-ksn %s: %w", flagValue, err)
		}
		path, err = filepath.Abs(path)
		return path, path, err
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", "", fmt.Errorf("cannot find the ksn module to build ksn from (go env GOMOD: %q, %v)\n"+
			"hint: run from the module root, or pass -ksn PATH", gomod, err)
	}
	root := filepath.Dir(gomod)
	path = filepath.Join(dir, "ksn")
	fmt.Fprintf(progress, "ksnbench: building ksn from %s\n", root)
	build := exec.Command("go", "build", "-o", path, "./cmd/ksn")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("go build ./cmd/ksn: %v\n%s\nhint: pass -ksn PATH to time a ksn built elsewhere", err, tail(string(out), 20))
	}
	return path, path + " (built from " + root + ")", nil
}

// benchSet times every contender on set, runs times, interleaved.
func benchSet(o *options, r *runner, ksn, dir string, set *inputSet) (setReport, error) {
	var cs []*contender
	if ksn != "" {
		argv := ksnArgs(ksn, set)
		cs = append(cs, &contender{
			name:    "ksn",
			command: shortCommand(argv) + " (fresh KSN_HOME)",
			run: func() (sample, error) {
				home, err := os.MkdirTemp(dir, "ksn-home-")
				if err != nil {
					return sample{}, err
				}
				defer os.RemoveAll(home)
				return r.run(argv, ksnEnv(home), 0, 1)
			},
		})
		home, err := os.MkdirTemp(dir, "ksn-home-")
		if err != nil {
			return setReport{}, err
		}
		defer os.RemoveAll(home)
		fmt.Fprintf(o.progress, "ksnbench: %s: priming ksn (warm db)\n", set.name)
		if _, err := r.run(argv, ksnEnv(home), 0, 1); err != nil {
			return setReport{}, fmt.Errorf("ksn failed before any timing: %w", err)
		}
		cs = append(cs, &contender{
			name:    "ksn (warm db)",
			command: shortCommand(argv) + " (one KSN_HOME for all runs)",
			run: func() (sample, error) {
				// Keep the database, not the results and stat caches (in
				// $KSN_HOME/cache), in case KSN_NO_CACHE is not honoured.
				if err := os.RemoveAll(filepath.Join(home, "cache")); err != nil {
					return sample{}, err
				}
				return r.run(argv, ksnEnv(home), 0, 1)
			},
		})
	}
	cs = append(cs,
		loopContender("floor", "in-process loop: BLAKE3 + SHA-256", set, blake3AndSHA256),
		loopContender("sha256-loop", "in-process loop: SHA-256 alone", set, sha256Only))
	var notes []string
	batched := map[int][]string{}
	for _, p := range peers {
		c, batches := p.contender(r, set)
		cs = append(cs, c)
		if batches > 0 && set.name == "tree" {
			batched[batches] = append(batched[batches], p.name)
		}
	}
	for n, names := range batched {
		notes = append(notes, fmt.Sprintf("%s: given the %d file names as arguments, in %d command line(s) within ARG_MAX run one after another (like find | xargs)",
			strings.Join(names, ", "), len(set.files), n))
	}
	if set.name == "tree" {
		notes = append(notes, "rhash, hashdeep: walk the tree themselves (-r)")
	}
	slices.Sort(notes)

	timed := slices.DeleteFunc(slices.Clone(cs), func(c *contender) bool { return c.missing != "" })
	for i := range o.runs {
		var line []string
		for j := range timed {
			c := timed[(i+j)%len(timed)]
			// Finish this process's garbage collection now, so that it
			// does not take a core from the next contender mid-run.
			runtime.GC()
			s, err := c.run()
			if err != nil {
				return setReport{}, fmt.Errorf("%s: %w", c.name, err)
			}
			c.samples = append(c.samples, s)
			line = append(line, fmt.Sprintf("%s %.3fs", c.name, s.wall.Seconds()))
		}
		fmt.Fprintf(o.progress, "ksnbench: %s run %d/%d: %s\n", set.name, i+1, o.runs, strings.Join(line, ", "))
	}
	return newSetReport(set, cs, notes), nil
}

// report is everything ksnbench prints, as text or JSON.
type report struct {
	CPU          string      `json:"cpu"`
	LogicalCPUs  int         `json:"logical_cpus"`
	GOMAXPROCS   int         `json:"gomaxprocs"`
	Go           string      `json:"go"`
	Platform     string      `json:"platform"`
	MemAvailable int64       `json:"mem_available_bytes"`
	LoadAverage  float64     `json:"load_average_1m"`
	KSN          string      `json:"ksn,omitempty"`
	PeerVersions []string    `json:"peer_versions"`
	Runs         int         `json:"runs"`
	Warnings     []string    `json:"warnings,omitempty"`
	Sets         []setReport `json:"sets"`
}

type setReport struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Files       int               `json:"files"`
	Bytes       int64             `json:"bytes"`
	Contenders  []contenderReport `json:"contenders"`
	// KSNPerSHA256Loop is ksn's median time over the SHA-256 loop's.
	KSNPerSHA256Loop float64 `json:"ksn_per_sha256_loop,omitempty"`
	// KSNPeakRSS is the largest peak RSS of any ksn run with every cache off.
	KSNPeakRSS        int64    `json:"ksn_peak_rss_bytes,omitempty"`
	KSNPeakRSSIsBound bool     `json:"ksn_peak_rss_is_upper_bound,omitempty"`
	Notes             []string `json:"notes,omitempty"`
}

type contenderReport struct {
	Name      string  `json:"name"`
	Command   string  `json:"command"`
	Installed bool    `json:"installed"`
	RunsNS    []int64 `json:"runs_ns,omitempty"`
	MedianNS  int64   `json:"median_ns,omitempty"`
	MinNS     int64   `json:"min_ns,omitempty"`
	MBPerS    float64 `json:"mb_per_s,omitempty"`
	// PerFloor is the median over the floor's median.
	PerFloor float64 `json:"per_floor,omitempty"`
	// PeakRSS is the largest peak RSS over the runs (external commands only).
	PeakRSS int64 `json:"peak_rss_bytes,omitempty"`
	// PeakRSSIsBound says PeakRSS is an upper bound, not the value: it did
	// not exceed ksnbench's own peak, which Linux charges to every child.
	PeakRSSIsBound bool `json:"peak_rss_is_upper_bound,omitempty"`
	// KSNSpeedup is this peer's median over ksn's: how many times faster ksn is.
	KSNSpeedup float64 `json:"ksn_speedup,omitempty"`
}

func newReport(runs int) *report {
	return &report{
		CPU:          cpuModel(),
		LogicalCPUs:  runtime.NumCPU(),
		GOMAXPROCS:   runtime.GOMAXPROCS(0),
		Go:           runtime.Version(),
		Platform:     runtime.GOOS + "/" + runtime.GOARCH,
		MemAvailable: memAvailable(),
		LoadAverage:  loadAverage(),
		Runs:         runs,
	}
}

func newSetReport(set *inputSet, cs []*contender, notes []string) setReport {
	sr := setReport{
		Name:        set.name,
		Description: set.desc,
		Files:       len(set.files),
		Bytes:       set.bytes,
		Notes:       notes,
	}
	medians := map[string]time.Duration{}
	for _, c := range cs {
		cr := contenderReport{Name: c.name, Command: c.command, Installed: c.missing == ""}
		if len(c.samples) > 0 {
			walls := make([]time.Duration, len(c.samples))
			for i, s := range c.samples {
				walls[i] = s.wall
				cr.RunsNS = append(cr.RunsNS, int64(s.wall))
				if s.maxRSS > cr.PeakRSS {
					cr.PeakRSS, cr.PeakRSSIsBound = s.maxRSS, s.rssBound
				}
			}
			med := median(walls)
			medians[c.name] = med
			cr.MedianNS, cr.MinNS = int64(med), int64(slices.Min(walls))
			cr.MBPerS = float64(set.bytes) / 1e6 / med.Seconds()
		}
		sr.Contenders = append(sr.Contenders, cr)
	}
	floor, ksn := medians["floor"], medians["ksn"]
	for i := range sr.Contenders {
		cr := &sr.Contenders[i]
		if m, ok := medians[cr.Name]; ok {
			cr.PerFloor = ratio(m, floor)
			if _, isPeer := peerNames()[cr.Name]; isPeer {
				cr.KSNSpeedup = ratio(m, ksn)
			}
		}
		if cr.Name == "ksn" {
			sr.KSNPeakRSS, sr.KSNPeakRSSIsBound = cr.PeakRSS, cr.PeakRSSIsBound
		}
	}
	sr.KSNPerSHA256Loop = ratio(ksn, medians["sha256-loop"])
	return sr
}

func peerNames() map[string]bool {
	m := map[string]bool{}
	for _, p := range peers {
		m[p.name] = true
	}
	return m
}

// ratio is a/b, or 0 when either is missing.
func ratio(a, b time.Duration) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// median of ds (the mean of the middle two for an even count); ds is not
// modified.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (rep *report) writeText(out io.Writer) error {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ksnbench: ksn check vs a hashing floor and peers, inputs in the page cache\n")
	fmt.Fprintf(tw, "cpu\t%s, %d logical CPUs\n", rep.CPU, rep.LogicalCPUs)
	fmt.Fprintf(tw, "GOMAXPROCS\t%d\n", rep.GOMAXPROCS)
	fmt.Fprintf(tw, "go\t%s %s\n", rep.Go, rep.Platform)
	if rep.MemAvailable >= 0 {
		fmt.Fprintf(tw, "memory\t%s available\n", humanBytes(rep.MemAvailable))
	}
	if rep.LoadAverage >= 0 {
		fmt.Fprintf(tw, "load\t%.2f (1 min average, before the runs)\n", rep.LoadAverage)
	}
	if rep.KSN != "" {
		fmt.Fprintf(tw, "ksn\t%s\n", rep.KSN)
	} else {
		fmt.Fprintf(tw, "ksn\tskipped (-skip-ksn)\n")
	}
	fmt.Fprintf(tw, "peers\t%s\n", strings.Join(rep.PeerVersions, "; "))
	fmt.Fprintf(tw, "runs\t%d per contender, interleaved; median and min wall time\n", rep.Runs)
	for _, w := range rep.Warnings {
		fmt.Fprintf(tw, "WARNING\t%s\n", w)
	}
	tw.Flush()

	for _, s := range rep.Sets {
		fmt.Fprintf(&b, "\n== %s: %s (%d bytes)\n", s.Name, s.Description, s.Bytes)
		// Numbers align right; names are padded so they read left-aligned.
		width := len("contender")
		for _, c := range s.Contenders {
			width = max(width, len(c.Name))
		}
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%-*s\tmedian\tmin\tMB/s\t× floor\tpeak RSS\t\n", width, "contender")
		for _, c := range s.Contenders {
			if !c.Installed {
				fmt.Fprintf(tw, "%-*s\tnot installed\t\t\t\t\t\n", width, c.Name)
				continue
			}
			rss := "-"
			if c.PeakRSS > 0 {
				rss = rssText(c.PeakRSS, c.PeakRSSIsBound)
			}
			fmt.Fprintf(tw, "%-*s\t%.3f s\t%.3f s\t%.0f\t%.2f\t%s\t\n", width, c.Name,
				time.Duration(c.MedianNS).Seconds(), time.Duration(c.MinNS).Seconds(), c.MBPerS, c.PerFloor, rss)
		}
		tw.Flush()
		b.WriteString("\n")
		var ksn *contenderReport
		for i := range s.Contenders {
			if s.Contenders[i].Name == "ksn" {
				ksn = &s.Contenders[i]
			}
		}
		if ksn != nil {
			writeKSNComparison(&b, s, ksn)
		}
		b.WriteString("notes:\n")
		if ksn != nil {
			b.WriteString("  ksn: every cache off: a fresh KSN_HOME per run and KSN_NO_CACHE=1; stdout to /dev/null\n")
			b.WriteString("  creating the database: ksn − ksn (warm db)\n")
		}
		b.WriteString("  floor, sha256-loop: in this process; a directory walk feeds GOMAXPROCS workers reading 256 KiB at a time\n")
		if s.Name == "big" {
			b.WriteString("  the big file is one file, so one worker hashes it: each chunk to BLAKE3, then to SHA-256\n")
		}
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "  %s\n", n)
		}
		b.WriteString("  peak RSS: ru_maxrss of the child; \"≤\" marks a value no larger than ksnbench's own peak, which Linux charges to every child\n")
		b.WriteString("commands (stdout to /dev/null):\n")
		for _, c := range s.Contenders {
			if c.Installed && c.PeakRSS > 0 {
				fmt.Fprintf(&b, "  %s\n", c.Command)
			}
		}
	}
	_, err := out.Write(b.Bytes())
	return err
}

// writeKSNComparison prints how ksn fares against every other contender, by
// median and by minimum (the minimum is the steadier of the two when other
// work competes for the CPUs), the cost of creating the database, and ksn's
// peak RSS.
func writeKSNComparison(b *bytes.Buffer, s setReport, ksn *contenderReport) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ksn against\tby median\tby min\n")
	speed := func(peer, ksn int64) string {
		if r := ratio(time.Duration(peer), time.Duration(ksn)); r >= 1 {
			return fmt.Sprintf("%.2f× faster", r)
		} else if r > 0 {
			return fmt.Sprintf("%.2f× slower", 1/r)
		}
		return "-"
	}
	share := func(of, ksn int64) string {
		return fmt.Sprintf("takes %.2f×", ratio(time.Duration(ksn), time.Duration(of)))
	}
	var warm *contenderReport
	for i, c := range s.Contenders {
		switch {
		case c.Name == "ksn (warm db)":
			warm = &s.Contenders[i]
		case c.Name == "floor" || c.Name == "sha256-loop":
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, share(c.MedianNS, ksn.MedianNS), share(c.MinNS, ksn.MinNS))
		case c.KSNSpeedup > 0:
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, speed(c.MedianNS, ksn.MedianNS), speed(c.MinNS, ksn.MinNS))
		}
	}
	if warm != nil && warm.MedianNS > 0 {
		fmt.Fprintf(tw, "creating the database\t%.3f s of %.3f s\t%.3f s of %.3f s\n",
			time.Duration(ksn.MedianNS-warm.MedianNS).Seconds(), time.Duration(ksn.MedianNS).Seconds(),
			time.Duration(ksn.MinNS-warm.MinNS).Seconds(), time.Duration(ksn.MinNS).Seconds())
	}
	tw.Flush()
	fmt.Fprintf(b, "ksn peak RSS: %s (max over %d runs)\n", rssText(s.KSNPeakRSS, s.KSNPeakRSSIsBound), len(ksn.RunsNS))
}

// rssText formats a peak RSS, marking an upper bound with ≤.
func rssText(n int64, bound bool) string {
	if bound {
		return "≤ " + humanBytes(n)
	}
	return humanBytes(n)
}

// cpuModel is the CPU's name and the instructions that decide hashing speed
// (SHA extensions, AVX2, AVX-512), from /proc/cpuinfo where there is one.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	var model string
	var flags []string
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case model == "" && k == "model name":
			model = v
		case flags == nil && (k == "flags" || k == "Features"):
			for _, f := range strings.Fields(v) {
				switch f {
				case "sha_ni", "avx2", "avx512f", "sha2", "asimd":
					flags = append(flags, f)
				}
			}
			if flags == nil {
				flags = []string{}
			}
		}
	}
	if model == "" {
		model = runtime.GOARCH
	}
	if len(flags) > 0 {
		model += " (" + strings.Join(flags, " ") + ")"
	}
	return model
}
