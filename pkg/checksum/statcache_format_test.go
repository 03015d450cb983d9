package checksum

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// sampleTable is a small valid cache file.
func sampleTable(n int) []byte {
	var entries []tableEntry
	for i := range n {
		p := []byte(fmt.Sprintf("/home/u/file-%d", i))
		algs := setOf(Default)
		if i%3 == 0 {
			algs = setOf(All)
		}
		e := cacheEntry{id: fileIdentity{dev: 1, ino: uint64(i), size: int64(i), mtimeNs: 1e18, ctimeNs: 1e18},
			cachedAt: 2e18, used: 20000, algs: algs, digests: bytes.Repeat([]byte{byte(i)}, algs.digestBytes())}
		entries = append(entries, tableEntry{hash: pathHash(p), path: p, e: e})
	}
	return encodeTable(mergeEntries(cacheTable{}, updatesOf(entries)))
}

func updatesOf(entries []tableEntry) []cacheUpdate {
	var ups []cacheUpdate
	for _, te := range entries {
		ups = append(ups, cacheUpdate{hash: te.hash, path: te.path, e: te.e})
	}
	return ups
}

// TestStatCacheDamaged: a cache file that is truncated, garbage, damaged
// by one bit, or of a newer format is never used, is reported, and is
// rebuilt; the digests are right all along. Each damaged file is made
// from a good one whose entries match the files, so that using it would
// show.
func TestStatCacheDamaged(t *testing.T) {
	cases := []struct {
		name    string
		damage  func(good []byte) []byte
		problem string
	}{
		{"empty", func([]byte) []byte { return nil }, "truncated"},
		{"truncated header", func(g []byte) []byte { return g[:10] }, "truncated"},
		{"truncated records", func(g []byte) []byte { return g[:len(g)/2] }, "truncated"},
		{"last byte missing", func(g []byte) []byte { return g[:len(g)-1] }, "truncated"},
		{"garbage", func(g []byte) []byte { return bytes.Repeat([]byte("garbage!"), len(g)/8) }, "not a ksn stat cache"},
		{"one bit of a digest", func(g []byte) []byte { g[len(g)-10] ^= 1; return g }, "checksum mismatch"},
		{"appended bytes", func(g []byte) []byte { return append(g, 0) }, "malformed header"},
		{"newer format", func(g []byte) []byte {
			binary.LittleEndian.PutUint32(g[8:], cacheFormat+1)
			return g
		}, "written by a newer version of ksn (format 2)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, files := tree(t, 3)
			clk := newClock(time.Now().Add(time.Hour))
			path := filepath.Join(t.TempDir(), "statcache")
			cachedRun(t, clk.cache(path), Options{}, dir)
			// The content changes, times kept by the hook: a cache used
			// despite its damage would serve the old digests.
			testHookIdentity = func(id *fileIdentity) { id.mtimeNs, id.ctimeNs = 1e9, 1e9 }
			defer func() { testHookIdentity = nil }()
			os.Remove(path)
			clk.add(time.Minute)
			cachedRun(t, clk.cache(path), Options{}, dir)
			good, err := os.ReadFile(path)
			must(t, err)
			writeRandom(t, files[0], 100, 555)
			must(t, os.WriteFile(path, tc.damage(bytes.Clone(good)), 0o600))

			clk.add(time.Minute)
			c := clk.cache(path)
			check(t, cachedRun(t, c, Options{}, dir), Default, none)
			if p := c.Problem(); p == nil || p.Error() != tc.problem {
				t.Fatalf("problem %v, want %q", p, tc.problem)
			}
			// Rebuilt: sound, and used by the next run.
			c = clk.cache(path)
			check(t, cachedRun(t, c, Options{}, dir), Default, all)
			if c.Problem() != nil {
				t.Fatalf("rebuilt cache: %v", c.Problem())
			}
		})
	}
}

// FuzzDecodeStatCache: no input makes the decoder panic or accept a file
// whose records cannot all be read and found; what it accepts encodes to
// a file with the same entries. With fixCRC the checksum is made right
// first, so that the fuzzer reaches the checks behind it. The seeds run
// as a normal test.
func FuzzDecodeStatCache(f *testing.F) {
	good := sampleTable(5)
	f.Add(good, false)
	f.Add(sampleTable(0), false)
	f.Add(good[:len(good)-1], false)
	f.Add([]byte(cacheMagic), false)
	f.Add([]byte("not a cache at all, but long enough to have a header"), true)
	bad := bytes.Clone(good)
	binary.LittleEndian.PutUint32(bad[12:], 1<<31) // a huge record count
	f.Add(bad, true)
	bad = bytes.Clone(good)
	bad[headerSize+60] = 0xff // a path offset out of the blob
	f.Add(bad, true)
	f.Fuzz(func(t *testing.T, data []byte, fixCRC bool) {
		if fixCRC && len(data) >= trailerSize {
			body := data[:len(data)-trailerSize]
			binary.LittleEndian.PutUint32(data[len(body):], crc32.Checksum(body, crcTable))
		}
		tab, err := decodeTable(data)
		if err != nil {
			return
		}
		var entries []tableEntry
		for i := range tab.count {
			h, p, e := tab.at(i)
			entries = append(entries, tableEntry{hash: h, path: p, e: e})
			if h != pathHash(p) {
				continue // a record filed under another hash is only ever missed
			}
			if got, ok := tab.find(string(p)); !ok || got.id != e.id || !bytes.Equal(got.digests, e.digests) {
				t.Fatalf("record %d (%q) not found as itself", i, p)
			}
		}
		again, err := decodeTable(encodeTable(entries))
		if err != nil || again.count != tab.count {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		for i := range tab.count {
			_, p1, e1 := tab.at(i)
			_, p2, e2 := again.at(i)
			if !bytes.Equal(p1, p2) || !bytes.Equal(e1.digests, e2.digests) || e1.id != e2.id || e1.used != e2.used {
				t.Fatalf("record %d changed by re-encoding", i)
			}
		}
	})
}

// TestTableFind: every path in the table is found as itself, and paths
// not in it are not, whatever the table's size.
func TestTableFind(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 100, 5000} {
		tab, err := decodeTable(sampleTable(n))
		must(t, err)
		for i := range n {
			e, ok := tab.find(fmt.Sprintf("/home/u/file-%d", i))
			if !ok || e.id.ino != uint64(i) {
				t.Fatalf("%d entries: file-%d found %v as ino %d", n, i, ok, e.id.ino)
			}
			if _, ok := tab.find(fmt.Sprintf("/home/u/other-%d", i)); ok {
				t.Fatalf("%d entries: other-%d found", n, i)
			}
		}
	}
}

// TestMergeEntries: what the file holds and what a run learnt, joined.
func TestMergeEntries(t *testing.T) {
	ent := func(at int64, used uint32) cacheEntry {
		return cacheEntry{cachedAt: at, used: used, algs: setOf(Default), digests: make([]byte, 64)}
	}
	up := func(path string, e cacheEntry, touch bool) cacheUpdate {
		return cacheUpdate{hash: pathHash(path), path: []byte(path), e: e, touch: touch}
	}
	cases := []struct {
		name    string
		base    map[string]cacheEntry
		ups     []cacheUpdate
		at      int64 // of /p in the result
		used    uint32
		entries int
	}{
		{"hashed again replaces", map[string]cacheEntry{"/p": ent(1, 5)}, []cacheUpdate{up("/p", ent(2, 7), false)}, 2, 7, 1},
		{"another process hashed later", map[string]cacheEntry{"/p": ent(3, 5)}, []cacheUpdate{up("/p", ent(2, 7), false)}, 3, 7, 1},
		{"a touch moves the day only", map[string]cacheEntry{"/p": ent(3, 5)}, []cacheUpdate{up("/p", ent(1, 9), true)}, 3, 9, 1},
		{"a touch brings a dropped entry back", nil, []cacheUpdate{up("/p", ent(1, 9), true)}, 1, 9, 1},
		{"twice in one run: the later", map[string]cacheEntry{"/q": ent(1, 1)}, []cacheUpdate{up("/p", ent(4, 8), false), up("/p", ent(2, 9), false)}, 4, 9, 2},
		{"untouched entries stay", map[string]cacheEntry{"/p": ent(1, 1), "/q": ent(1, 1), "/r": ent(1, 1)}, nil, 1, 1, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var base []cacheUpdate
			for p, e := range tc.base {
				base = append(base, up(p, e, false))
			}
			tab, err := decodeTable(encodeTable(mergeEntries(cacheTable{}, base)))
			must(t, err)
			got := mergeEntries(tab, tc.ups)
			if len(got) != tc.entries {
				t.Fatalf("%d entries, want %d", len(got), tc.entries)
			}
			for _, te := range got {
				if string(te.path) == "/p" && (te.e.cachedAt != tc.at || te.e.used != tc.used) {
					t.Fatalf("/p hashed at %d, used %d; want %d, %d", te.e.cachedAt, te.e.used, tc.at, tc.used)
				}
			}
		})
	}
}

// TestStatCacheBounds: beyond either bound the least recently used
// entries go, then the oldest hashed.
func TestStatCacheBounds(t *testing.T) {
	entry := func(used uint32, at int64, path string) tableEntry {
		p := []byte(path)
		return tableEntry{hash: pathHash(p), path: p,
			e: cacheEntry{used: used, cachedAt: at, algs: setOf(Default), digests: make([]byte, 64)}}
	}
	entries := []tableEntry{
		entry(10, 5, "/a"), entry(12, 1, "/b"), entry(11, 9, "/c"), entry(12, 0, "/d"), entry(10, 6, "/e"),
	}
	one := entries[0].size()
	cases := []struct {
		name       string
		maxEntries int
		maxBytes   int64
		want       string
	}{
		{"within both", 5, 1 << 20, "/a /b /c /d /e"},
		{"entries", 3, 1 << 20, "/b /c /d"},
		{"bytes", 10, headerSize + trailerSize + 2*one, "/b /d"},
		{"the older hashed first on the same day", 1, 1 << 20, "/b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := boundEntries(mergeEntries(cacheTable{}, updatesOf(entries)), tc.maxEntries, tc.maxBytes)
			var names []string
			for _, te := range got {
				names = append(names, string(te.path))
			}
			slices.Sort(names)
			if strings.Join(names, " ") != tc.want {
				t.Errorf("kept %v, want %s", names, tc.want)
			}
		})
	}
}

// TestStatCacheConcurrentSaves: processes that check different trees at
// once and save into one file lose none of each other's entries.
func TestStatCacheConcurrentSaves(t *testing.T) {
	const writers, rounds = 4, 5
	clk := newClock(time.Now().Add(time.Hour))
	path := filepath.Join(t.TempDir(), "statcache")
	dirs := make([]string, writers)
	for i := range dirs {
		dirs[i], _ = tree(t, 20)
	}
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			for range rounds {
				c := clk.cache(path) // a process of its own: its own view of the file
				res := runAll(t, Options{Cache: c, Recursive: true}, dirs[i])
				if len(res) != 20 {
					t.Errorf("writer %d: %d results", i, len(res))
				}
				if err := c.Save(); err != nil {
					t.Errorf("writer %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
	clk.add(time.Minute)
	c := clk.cache(path)
	check(t, runAll(t, Options{Cache: c, Recursive: true}, dirs...), Default, all)
	if c.Problem() != nil {
		t.Fatal(c.Problem())
	}
}
