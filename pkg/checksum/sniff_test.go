package checksum

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSniff: Options.Sniff sees the start of each file read, small or
// pipelined, and its answer survives in the stat cache for unchanged files.
func TestSniff(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("mail", []byte("From: a\nTo: b\n\nhi"))
	write("other", []byte("plain"))
	write("big", append([]byte("From: x\n"), bytes.Repeat([]byte{'z'}, pipelineMinBytes+1)...))
	seen := map[string]int{}
	sniff := func(path string, head []byte) bool {
		seen[filepath.Base(path)] = len(head)
		return strings.HasPrefix(string(head), "From: ")
	}
	clk := newClock(time.Now().Add(time.Minute)) // past the racy window of the writes above
	cachePath := filepath.Join(t.TempDir(), "statcache")
	for round := range 2 {
		clk.add(time.Minute)
		res := cachedRun(t, clk.cache(cachePath), Options{Sniff: sniff, Workers: 1}, dir)
		for _, r := range res {
			want := filepath.Base(r.Path) != "other"
			if r.Sniffed != want {
				t.Errorf("round %d: %s sniffed %v, want %v (cached %v)", round, r.Path, r.Sniffed, want, r.Cached)
			}
			if round == 1 && !r.Cached {
				t.Errorf("round 2: %s was not taken from the cache", r.Path)
			}
		}
		if round == 0 && (seen["big"] != SniffLen || seen["mail"] != len("From: a\nTo: b\n\nhi")) {
			t.Errorf("sniff was shown %v bytes", seen)
		}
	}
}

func TestReader(t *testing.T) {
	n, d, err := Reader(strings.NewReader("abc"), Default)
	f := filepath.Join(t.TempDir(), "abc")
	must(t, os.WriteFile(f, []byte("abc"), 0o644))
	want := plain(t, Default, f)[f]
	if err != nil || n != 3 || d.Hex(SHA256) != want.Hex(SHA256) || d.Hex(BLAKE3) != want.Hex(BLAKE3) {
		t.Fatalf("Reader = %d %v %v", n, d, err)
	}
}
