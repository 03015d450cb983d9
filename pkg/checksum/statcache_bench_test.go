package checksum

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchCache writes a cache of n entries with paths of a typical length
// (about 70 bytes) and returns its path.
func benchCache(b *testing.B, n int) string {
	b.Helper()
	var updates []cacheUpdate
	for i := range n {
		p := fmt.Sprintf("/home/someone/projects/some-project/build/output/d%03d/f%05d.bin", i/200, i)
		algs := setOf(Default)
		updates = append(updates, cacheUpdate{hash: pathHash(p), path: []byte(p), e: cacheEntry{id: fileIdentity{dev: 2049, ino: uint64(i), size: 4096},
			cachedAt: time.Now().UnixNano(), used: 20000, algs: algs, digests: make([]byte, algs.digestBytes())}})
	}
	path := filepath.Join(b.TempDir(), "statcache")
	entries := mergeEntries(cacheTable{}, updates)
	if err := writeAtomic(path, func(w io.Writer) error { return writeTable(w, entries) }); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkStatCacheLoad: reading and checking a 20,000-entry cache, as
// the first lookup of a re-check does, and one lookup.
func BenchmarkStatCacheLoad(b *testing.B) {
	path := benchCache(b, 20000)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	for b.Loop() {
		c := NewStatCache(path, StatCacheOptions{})
		if _, ok := c.lookup("/home/someone/projects/some-project/build/output/d050/f10000.bin"); !ok || c.Problem() != nil {
			b.Fatal("lookup failed", c.Problem())
		}
	}
}

// BenchmarkStatCacheSave: a run that changed one file of 20,000 merges
// and rewrites the whole file.
func BenchmarkStatCacheSave(b *testing.B) {
	path := benchCache(b, 20000)
	key := "/home/someone/projects/some-project/build/output/d050/f10000.bin"
	for b.Loop() {
		c := NewStatCache(path, StatCacheOptions{})
		e, _ := c.lookup(key)
		e.cachedAt++
		c.record(key, e)
		if err := c.Save(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatCacheFind: looking up every entry of a 20,000-entry cache,
// as a re-check of the tree does.
func BenchmarkStatCacheFind(b *testing.B) {
	path := benchCache(b, 20000)
	c := NewStatCache(path, StatCacheOptions{})
	c.ensureLoaded()
	keys := make([]string, 20000)
	for i := range keys {
		keys[i] = fmt.Sprintf("/home/someone/projects/some-project/build/output/d%03d/f%05d.bin", i/200, i)
	}
	for b.Loop() {
		for _, k := range keys {
			if _, ok := c.table.find(k); !ok {
				b.Fatal("not found", k)
			}
		}
	}
}

// BenchmarkStatCacheFirstSave: the first check of 20,000 files records
// them all and writes the cache: what the stat cache adds to a cold check.
func BenchmarkStatCacheFirstSave(b *testing.B) {
	dir := b.TempDir()
	digests := make([]byte, setOf(Default).digestBytes())
	keys := make([]string, 20000)
	for i := range keys {
		keys[i] = fmt.Sprintf("/home/someone/projects/some-project/build/output/d%03d/f%05d.bin", i/200, i)
	}
	for b.Loop() {
		path := filepath.Join(dir, "statcache")
		os.Remove(path)
		c := NewStatCache(path, StatCacheOptions{})
		for i, key := range keys {
			c.record(key, cacheEntry{id: fileIdentity{dev: 2049, ino: uint64(i), size: 4096},
				cachedAt: time.Now().UnixNano(), algs: setOf(Default), digests: digests})
		}
		if err := c.Save(); err != nil {
			b.Fatal(err)
		}
	}
}
