package main

import (
	"bytes"
	"crypto/sha256"
	"hash"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBatchArgsFitsBudgetAndKeepsOrder(t *testing.T) {
	fixed := []string{"/usr/bin/sha256sum", "--"}
	var files []string
	for i := range 1000 {
		files = append(files, filepath.Join("/tmp/ksnbench/tree", strings.Repeat("x", i%40), "f.bin"))
	}
	const budget = 4096
	batches := batchArgs(fixed, files, budget)
	if len(batches) < 2 {
		t.Fatalf("got %d batches, want several for a %d-byte budget", len(batches), budget)
	}
	var got []string
	for i, b := range batches {
		if !slices.Equal(b[:len(fixed)], fixed) {
			t.Fatalf("batch %d starts %q, want %q", i, b[:len(fixed)], fixed)
		}
		if cost := argvCost(b); cost > budget {
			t.Errorf("batch %d costs %d bytes, over the budget of %d", i, cost, budget)
		}
		if i < len(batches)-1 {
			// Greedy: the next file would not have fit.
			next := batches[i+1][len(fixed)]
			if argvCost(b)+argvCost([]string{next}) <= budget {
				t.Errorf("batch %d stops early: %q would fit", i, next)
			}
		}
		got = append(got, b[len(fixed):]...)
	}
	if !slices.Equal(got, files) {
		t.Errorf("batches do not hold every file once, in order")
	}
}

func TestBatchArgsEdges(t *testing.T) {
	fixed := []string{"b3sum"}
	if got := batchArgs(fixed, nil, 1000); len(got) != 0 {
		t.Errorf("no files: got %d batches, want none", len(got))
	}
	long := strings.Repeat("y", 500)
	got := batchArgs(fixed, []string{"a", long, "b"}, 100)
	want := [][]string{{"b3sum", "a"}, {"b3sum", long}, {"b3sum", "b"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("a file over the budget: got %q, want %q", got, want)
	}
	got = batchArgs(fixed, []string{"a", "b", "c"}, 1<<20)
	if len(got) != 1 || len(got[0]) != 4 {
		t.Errorf("everything fits: got %q, want one command line", got)
	}
}

func TestArgBudgetIsSane(t *testing.T) {
	b := argBudget()
	if b < 64<<10 || b > 6<<20 {
		t.Errorf("argBudget() = %d, want between 64 KiB and 6 MiB", b)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{7}, 7},
		{[]time.Duration{5, 1, 3}, 3},
		{[]time.Duration{4, 1, 3, 2}, 2}, // (2+3)/2 rounds down in integer nanoseconds
		{[]time.Duration{10, 20}, 15},
	} {
		in := slices.Clone(tc.in)
		if got := median(in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("median(%v) reordered its argument", tc.in)
		}
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{
		"65536": 65536, "1KiB": 1 << 10, "64K": 64 << 10, "256M": 256 << 20, "1GiB": 1 << 30, " 2 MiB ": 2 << 20,
	} {
		var b byteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "1.5G", "-1", "12XB", "1TiB"} {
		var b byteSize
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) = %d, want an error", in, b)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{
		512: "512 bytes", 1024: "1 KiB", 64 << 10: "64 KiB", 1 << 30: "1 GiB", 687194767: "655.4 MiB",
	} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// The inputs are the same bytes on every run: two generations in different
// directories hold identical, non-zero trees and big files of the planned
// sizes, and a second prepare reuses them.
func TestInputsAreDeterministic(t *testing.T) {
	const files, minSize, maxSize, bigSize = 450, 1, 3000, 100_000
	var trees, bigs [][]byte
	for range 2 {
		dir := t.TempDir()
		tree, err := prepareTree(dir, files, minSize, maxSize, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if len(tree.files) != files || tree.dirs != 3 {
			t.Fatalf("tree has %d files in %d dirs, want %d in 3", len(tree.files), tree.dirs, files)
		}
		var total int64
		h := sha256.New()
		for _, f := range tree.files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if n := int64(len(data)); n < minSize || n > maxSize {
				t.Errorf("%s has %d bytes, outside [%d, %d]", f, n, minSize, maxSize)
			}
			total += int64(len(data))
			h.Write([]byte(f[len(dir):]))
			h.Write(data)
		}
		if total != tree.bytes {
			t.Errorf("tree holds %d bytes, set says %d", total, tree.bytes)
		}
		trees = append(trees, h.Sum(nil))

		big, err := prepareBig(dir, bigSize, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(big.root)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) != bigSize {
			t.Fatalf("big file has %d bytes, want %d", len(data), bigSize)
		}
		if bytes.Count(data, []byte{0}) > bigSize/100 {
			t.Errorf("big file is mostly zeros; want pseudo-random content")
		}
		bigs = append(bigs, data)

		// Reused, not generated again.
		var progress bytes.Buffer
		if _, err := prepareTree(dir, files, minSize, maxSize, &progress); err != nil {
			t.Fatal(err)
		}
		if progress.Len() != 0 {
			t.Errorf("second prepare regenerated the tree: %s", &progress)
		}
	}
	if !bytes.Equal(trees[0], trees[1]) {
		t.Errorf("two generations of the tree differ")
	}
	if !bytes.Equal(bigs[0], bigs[1]) {
		t.Errorf("two generations of the big file differ")
	}
}

func TestPrepareRegeneratesWhatChanged(t *testing.T) {
	dir := t.TempDir()
	set, err := prepareTree(dir, 20, 10, 20, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// A stray file would be hashed by contenders that recurse.
	if err := os.WriteFile(filepath.Join(set.root, "stray"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	if _, err := prepareTree(dir, 20, 10, 20, &progress); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "generating") {
		t.Errorf("a tree with a stray file was reused; progress: %q", &progress)
	}
	if _, err := os.Stat(filepath.Join(set.root, "stray")); err == nil {
		t.Errorf("the stray file survived regeneration")
	}
	progress.Reset()
	if _, err := prepareTree(dir, 21, 10, 20, &progress); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "generating") {
		t.Errorf("new parameters did not regenerate the tree")
	}
}

func TestPrepareLeavesForeignFilesAlone(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "tree", "precious")
	if err := os.MkdirAll(filepath.Dir(mine), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mine, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := prepareTree(dir, 5, 1, 2, io.Discard); err == nil {
		t.Errorf("prepareTree took over a tree it did not make")
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a file ksnbench did not make is gone: %v", err)
	}
}

// The floor reads every byte of the tree and of a single file.
func TestHashLoopReadsEverything(t *testing.T) {
	dir := t.TempDir()
	tree, err := prepareTree(dir, 30, 0, 5000, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []*inputSet{tree, {name: "big", root: tree.files[3], bytes: fileSize(t, tree.files[3])}} {
		for _, newHashes := range []func() []hash.Hash{blake3AndSHA256, sha256Only} {
			n, err := hashLoop(set.root, newHashes)
			if err != nil || n != set.bytes {
				t.Errorf("hashLoop(%s) = %d, %v; want %d bytes", set.root, n, err, set.bytes)
			}
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestGoalReports(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	medians := map[string]time.Duration{"ksn": ms(700), "ksn re-check": ms(50), "find -printf": ms(30), "stat-walk": ms(20)}
	mins := map[string]time.Duration{"ksn": ms(600), "ksn re-check": ms(40), "find -printf": ms(25), "stat-walk": ms(20)}
	got := goalReports("tree", medians, mins, nil)
	want := []goalReport{
		{What: "cold check ÷ re-check", Ratio: 14, RatioByMin: 15, Goal: "≥ 10×", Met: true},
		{What: "re-check ÷ find -printf", Ratio: 50.0 / 30, RatioByMin: 1.6, Goal: "≤ 2×", Met: true},
		{What: "re-check ÷ stat-walk (in-process)", Ratio: 2.5, RatioByMin: 2, Goal: "≤ 2×", Met: false},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v (a goal whose contender did not run is left out)", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.What != w.What || g.Goal != w.Goal || g.Met != w.Met || math.Abs(g.Ratio-w.Ratio) > 1e-9 || math.Abs(g.RatioByMin-w.RatioByMin) > 1e-9 {
			t.Errorf("goal %d = %+v, want %+v", i, g, w)
		}
	}
	if g := goalReports("one", map[string]time.Duration{"ksn": ms(7), "ksn --version": ms(4)}, mins, nil); len(g) != 1 || g[0].Met {
		t.Errorf("startup goal: %+v, want one, not met at 1.75×", g)
	}
}

// The stat-walk floor sees every file of the tree, and only those.
func TestStatWalk(t *testing.T) {
	set, err := prepareTree(t.TempDir(), 450, 1, 10, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := statWalk(set.root); err != nil || n != len(set.files) {
		t.Fatalf("statWalk = %d, %v; want %d", n, err, len(set.files))
	}
}
