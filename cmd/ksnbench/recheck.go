package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// recheckContenders are the tree's re-check and its floors: ksn checking
// the tree again with its stat cache primed (the files unchanged since),
// `find -printf '%s %T@'` and the same walk in this process. cleanup
// removes the primed KSN_HOME.
func recheckContenders(o *options, r *runner, ksn, dir string, set *inputSet) (cs []*contender, cleanup func(), err error) {
	cleanup = func() {}
	if ksn != "" {
		home, err := os.MkdirTemp(dir, "ksn-home-")
		if err != nil {
			return nil, cleanup, err
		}
		cleanup = func() { os.RemoveAll(home) }
		argv := ksnArgs(ksn, set)
		fmt.Fprintf(o.progress, "ksnbench: %s: priming ksn's stat cache (re-check)\n", set.name)
		if _, err := r.run(argv, ksnEnv(home), 0, 1); err != nil {
			return nil, cleanup, fmt.Errorf("ksn failed before any timing: %w", err)
		}
		cs = append(cs, &contender{
			name:    "ksn re-check",
			command: shortCommand(argv) + " (the stat cache primed, the tree unchanged)",
			run:     func() (sample, error) { return r.run(argv, ksnEnv(home), 0, 1) },
		})
	}
	find := &contender{name: "find -printf"}
	if path, err := exec.LookPath("find"); err != nil {
		find.missing, find.command = "not installed", "find (not in PATH)"
	} else {
		argv := []string{path, set.root, "-type", "f", "-printf", "%s %T@\\n"}
		find.command = shortCommand(argv)
		find.run = func() (sample, error) { return r.run(argv, nil) }
	}
	cs = append(cs, find, &contender{
		name:    "stat-walk",
		command: "in-process loop: a directory walk that stats every file",
		run: func() (sample, error) {
			start, cpu := time.Now(), selfCPU()
			n, err := statWalk(set.root)
			wall := time.Since(start)
			if err == nil && n != len(set.files) {
				err = fmt.Errorf("stat %d files, want %d", n, len(set.files))
			}
			return sample{wall: wall, cpu: selfCPU() - cpu}, err
		},
	})
	return cs, cleanup, nil
}

// statWalk is the floor of a re-check: every regular file under root
// found and stat'ed (lstat), on one goroutine, as find does. It returns
// how many files it saw.
func statWalk(root string) (int, error) {
	n := 0
	var sink int64
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		sink += fi.Size() + fi.ModTime().UnixNano()
		n++
		return nil
	})
	_ = sink
	return n, err
}

// startupSize is the one small file of the startup set: smaller than a
// page, so that the time is the tool's own, not hashing's.
const startupSize = 4 << 10

// prepareOne writes the startup set's file, dir/one.bin.
func prepareOne(dir string, progress io.Writer) (*inputSet, error) {
	path := filepath.Join(dir, "one.bin")
	set := &inputSet{
		name:  "one",
		desc:  fmt.Sprintf("one file of %s: how long ksn takes to start and finish", humanBytes(startupSize)),
		root:  path,
		files: []string{path},
		bytes: startupSize,
	}
	params := fmt.Sprintf("ksnbench one v1 size=%d\n", startupSize)
	check := func() error { return warmFile(path, startupSize) }
	generate := func() error { return generateBig(path, startupSize) }
	return set, prepare(path, filepath.Join(dir, "one.params"), params, check, generate, progress)
}

// startupContenders are `ksn check FILE` as a user runs it (its databases
// made by an earlier run) and `ksn --version`, the least any ksn command
// costs. cleanup removes the KSN_HOME.
func startupContenders(o *options, r *runner, ksn, dir string, set *inputSet) (cs []*contender, cleanup func(), err error) {
	cleanup = func() {}
	if ksn == "" {
		return nil, cleanup, nil
	}
	home, err := os.MkdirTemp(dir, "ksn-home-")
	if err != nil {
		return nil, cleanup, err
	}
	cleanup = func() { os.RemoveAll(home) }
	argv := ksnArgs(ksn, set)
	fmt.Fprintf(o.progress, "ksnbench: %s: priming ksn (its databases)\n", set.name)
	if _, err := r.run(argv, ksnEnv(home), 0, 1); err != nil {
		return nil, cleanup, fmt.Errorf("ksn failed before any timing: %w", err)
	}
	version := []string{ksn, "--version"}
	return []*contender{
		{name: "ksn", command: shortCommand(argv) + " (one KSN_HOME for all runs)",
			run: func() (sample, error) { return r.run(argv, ksnEnv(home), 0, 1) }},
		{name: "ksn --version", command: shortCommand(version),
			run: func() (sample, error) { return r.run(version, ksnEnv(home)) }},
	}, cleanup, nil
}
