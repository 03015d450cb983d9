package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// run builds or finds ksn, prepares the inputs, warns about what would make
// the times unreliable (too little memory to keep the inputs in the page
// cache, a busy machine), and times every input set.
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

	rep := newReport(o.runs, o.startupRuns)
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
	if o.only == "" || o.only == "one" {
		set, err := prepareOne(dir, o.progress)
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	if o.only == "" || o.only == "tree" {
		set, err := prepareTree(dir, o.files, int64(o.minSize), int64(o.maxSize), o.progress)
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	if o.only == "" || o.only == "big" {
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

// benchSet times every contender on set, runs times (startupRuns times
// for the one small file), interleaved.
func benchSet(o *options, r *runner, ksn, dir string, set *inputSet) (setReport, error) {
	var cs []*contender
	runs := o.runs
	if set.name == "one" {
		runs = o.startupRuns
		startup, cleanup, err := startupContenders(o, r, ksn, dir, set)
		defer cleanup()
		if err != nil {
			return setReport{}, err
		}
		cs = append(cs, startup...)
	} else if ksn != "" {
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
				// Keep the database, not the caches in $KSN_HOME/cache:
				// the stat cache would make this a re-check.
				if err := os.RemoveAll(filepath.Join(home, "cache")); err != nil {
					return sample{}, err
				}
				return r.run(argv, ksnEnv(home), 0, 1)
			},
		})
	}
	if set.name == "tree" {
		recheck, cleanup, err := recheckContenders(o, r, ksn, dir, set)
		defer cleanup()
		if err != nil {
			return setReport{}, err
		}
		cs = append(cs, recheck...)
	}
	if set.name != "one" {
		cs = append(cs,
			loopContender("floor", "in-process loop: BLAKE3 + SHA-256", set, blake3AndSHA256),
			loopContender("sha256-loop", "in-process loop: SHA-256 alone", set, sha256Only))
	}
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
	for i := range runs {
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
		if set.name != "one" || (i+1)%25 == 0 || i+1 == runs {
			fmt.Fprintf(o.progress, "ksnbench: %s run %d/%d: %s\n", set.name, i+1, runs, strings.Join(line, ", "))
		}
	}
	return newSetReport(set, cs, notes), nil
}
