package checksum

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable time for a StatCache.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}

func (c *clock) set(t time.Time)           { c.ns.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration)       { c.ns.Add(int64(d)) }
func (c *clock) now() time.Time            { return time.Unix(0, c.ns.Load()) }
func (c *clock) opts() StatCacheOptions    { return StatCacheOptions{Now: c.now} }
func (c *clock) cache(p string) *StatCache { return NewStatCache(p, c.opts()) }

// tree writes n files of distinct content under a new directory.
func tree(t *testing.T, n int) (string, []string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tree")
	must(t, os.MkdirAll(dir, 0o755))
	var files []string
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("f%02d", i))
		writeRandom(t, p, 100+i, uint64(i))
		files = append(files, p)
	}
	return dir, files
}

// cachedRun walks dir with the cache and saves it; it returns the results.
func cachedRun(t *testing.T, c *StatCache, opts Options, inputs ...string) []Result {
	t.Helper()
	opts.Cache = c
	opts.Recursive = true
	res := runAll(t, opts, inputs...)
	must(t, c.Save())
	return res
}

// plain hashes the files without a cache: what every cached run must say.
func plain(t *testing.T, algs []Algorithm, files ...string) map[string]Digests {
	t.Helper()
	out := map[string]Digests{}
	for _, r := range runAll(t, Options{Algorithms: algs}, files...) {
		must(t, r.Err)
		out[r.Path] = r.Digests
	}
	return out
}

func sameDigests(a, b Digests) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// check asserts that each result is cached as want says and carries the
// digests a plain hash gives.
func check(t *testing.T, res []Result, algs []Algorithm, want func(path string) bool) {
	t.Helper()
	var paths []string
	for _, r := range res {
		paths = append(paths, r.Path)
	}
	truth := plain(t, algs, paths...)
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Path, r.Err)
		}
		if r.Cached != want(r.Path) {
			t.Errorf("%s: cached = %v, want %v", filepath.Base(r.Path), r.Cached, want(r.Path))
		}
		if !sameDigests(r.Digests, truth[r.Path]) {
			t.Errorf("%s: digests %v, want %v (cached %v)", filepath.Base(r.Path), r.Digests, truth[r.Path], r.Cached)
		}
	}
}

func all(string) bool  { return true }
func none(string) bool { return false }

// TestStatCacheChanges: an unchanged file comes from the cache; any
// change of content, times or identity has it hashed again.
func TestStatCacheChanges(t *testing.T) {
	later := time.Now().Add(time.Hour)
	cases := []struct {
		name   string
		change func(t *testing.T, p string)
	}{
		{"unchanged", nil},
		{"rewritten, same size", func(t *testing.T, p string) {
			fi, _ := os.Stat(p)
			writeRandom(t, p, int(fi.Size()), 99)
		}},
		{"mtime moved back", func(t *testing.T, p string) {
			fi, _ := os.Stat(p)
			writeRandom(t, p, int(fi.Size()), 98)
			must(t, os.Chtimes(p, fi.ModTime(), fi.ModTime())) // ctime still moves
		}},
		{"chmod (ctime only)", func(t *testing.T, p string) { must(t, os.Chmod(p, 0o600)) }},
		{"replaced by another file", func(t *testing.T, p string) {
			writeRandom(t, p+".new", 50, 97)
			must(t, os.Rename(p+".new", p))
		}},
		{"truncated", func(t *testing.T, p string) { must(t, os.Truncate(p, 3)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, files := tree(t, 4)
			clk := newClock(later)
			path := filepath.Join(t.TempDir(), "statcache")
			check(t, cachedRun(t, clk.cache(path), Options{}, dir), Default, none)
			changed := files[2]
			if tc.change != nil {
				tc.change(t, changed)
			}
			clk.add(time.Hour)
			res := cachedRun(t, clk.cache(path), Options{}, dir)
			check(t, res, Default, func(p string) bool { return tc.change == nil || p != changed })
			// What was hashed again is cached from now on.
			clk.add(time.Hour)
			check(t, cachedRun(t, clk.cache(path), Options{}, dir), Default, all)
		})
	}
}

// TestStatCacheRacy plays a file system whose timestamps tick once a
// second (the hook pins every mtime and ctime to one second): a file
// written again in the second it was hashed keeps its times, and only the
// racy rule keeps the old digests from being served.
func TestStatCacheRacy(t *testing.T) {
	tick := time.Now().Add(time.Hour).Truncate(time.Second)
	cases := []struct {
		name     string
		stamp    time.Time     // every mtime and ctime
		hashedAt time.Duration // clock at the first run, after stamp
		trusted  bool
	}{
		{"coarse, hashed in the same second", tick, 300 * time.Millisecond, false},
		{"coarse, hashed 1.5 s later", tick, 1500 * time.Millisecond, false},
		{"coarse, hashed 3 s later", tick, 3 * time.Second, true},
		{"fine, hashed 20 ms later", tick.Add(123), 20 * time.Millisecond, false},
		{"fine, hashed 300 ms later", tick.Add(123), 300 * time.Millisecond, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testHookIdentity = func(id *fileIdentity) { id.mtimeNs, id.ctimeNs = tc.stamp.UnixNano(), tc.stamp.UnixNano() }
			defer func() { testHookIdentity = nil }()
			dir, files := tree(t, 3)
			clk := newClock(tc.stamp.Add(tc.hashedAt))
			path := filepath.Join(t.TempDir(), "statcache")
			cachedRun(t, clk.cache(path), Options{}, dir)
			clk.add(time.Minute)
			if tc.trusted {
				check(t, cachedRun(t, clk.cache(path), Options{}, dir), Default, all)
				return
			}
			// Written again within the granularity: same size, same times.
			writeRandom(t, files[1], 101, 1234)
			res := cachedRun(t, clk.cache(path), Options{}, dir)
			check(t, res, Default, none)
			// Hashed again well after its times, the entry is trusted.
			clk.add(time.Minute)
			check(t, cachedRun(t, clk.cache(path), Options{}, dir), Default, all)
		})
	}
}

// TestStatCacheAlgorithms: digests the entry lacks are computed, never
// left out; those it had are kept for later runs.
func TestStatCacheAlgorithms(t *testing.T) {
	dir, _ := tree(t, 3)
	clk := newClock(time.Now().Add(time.Hour))
	path := filepath.Join(t.TempDir(), "statcache")
	steps := []struct {
		algs   []Algorithm
		cached bool
	}{
		{Default, false},
		{[]Algorithm{SHA256, MD5}, false}, // MD5 is new: hashed
		{Default, true},                   // BLAKE3 was kept beside MD5
		{[]Algorithm{MD5}, true},
		{All, false}, // SHA-1 is new
		{[]Algorithm{SHA1, BLAKE3}, true},
	}
	for i, s := range steps {
		clk.add(time.Minute)
		res := cachedRun(t, clk.cache(path), Options{Algorithms: s.algs}, dir)
		for _, r := range res {
			if len(r.Digests) != len(s.algs) {
				t.Fatalf("step %d: %s has %d digests, want %d", i, r.Path, len(r.Digests), len(s.algs))
			}
		}
		check(t, res, s.algs, func(string) bool { return s.cached })
	}
}

// TestStatCacheRehash: --rehash reads every file and refreshes the cache.
func TestStatCacheRehash(t *testing.T) {
	dir, _ := tree(t, 3)
	clk := newClock(time.Now().Add(time.Hour))
	path := filepath.Join(t.TempDir(), "statcache")
	cachedRun(t, clk.cache(path), Options{}, dir)
	clk.add(time.Minute)
	check(t, cachedRun(t, clk.cache(path), Options{Rehash: true}, dir), Default, none)
	clk.add(time.Minute)
	check(t, cachedRun(t, clk.cache(path), Options{}, dir), Default, all)
}

// TestStatCacheNamedFiles: files named one by one are looked up only once
// they add up to more than reading the cache costs; a walk always is.
func TestStatCacheNamedFiles(t *testing.T) {
	dir, files := tree(t, 2)
	big := filepath.Join(dir, "big")
	writeRandom(t, big, directBytes+1, 7)
	clk := newClock(time.Now().Add(time.Hour))
	path := filepath.Join(t.TempDir(), "statcache")
	c := clk.cache(path)
	cachedRun(t, c, Options{}, files[0])
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("one small named file wrote the cache (%v)", err)
	}
	cases := []struct {
		name   string
		inputs []string
		cached []bool
	}{
		{"first run", []string{files[0], big, files[1]}, []bool{false, false, false}},
		{"small first, then past the threshold", []string{files[0], big, files[1]}, []bool{false, true, true}},
		// big, f00, f01: f00, only ever named first, was never recorded.
		{"a walk", []string{dir}, []bool{true, false, true}},
		{"a walk again", []string{dir}, []bool{true, true, true}},
	}
	for _, tc := range cases {
		clk.add(time.Minute)
		res := cachedRun(t, clk.cache(path), Options{}, tc.inputs...)
		for i, r := range res {
			if r.Cached != tc.cached[i] {
				t.Errorf("%s: %s cached = %v, want %v", tc.name, filepath.Base(r.Path), r.Cached, tc.cached[i])
			}
		}
	}
}
