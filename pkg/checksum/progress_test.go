package checksum

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestProgressMovesDuringAStream: bytes count as they are read, before
// the input ends.
func TestProgressMovesDuringAStream(t *testing.T) {
	pr, pw := io.Pipe()
	p := &Progress{}
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), paths("-"), Options{Stdin: pr, Progress: p}, func(Result, bool) error { return nil })
	}()
	chunk := bytes.Repeat([]byte{7}, 64<<10)
	for range 4 {
		if _, err := pw.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Bytes.Load() < 3*int64(len(chunk)) {
		if time.Now().After(deadline) {
			t.Fatalf("progress at %d bytes after 256 KiB were written into an open stream", p.Bytes.Load())
		}
		time.Sleep(time.Millisecond)
	}
	if p.Files.Load() != 0 {
		t.Fatal("the stream counted as finished while open")
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Total(); ok {
		t.Error("a pipe's total is known")
	}
}

// TestProgressTotal: the total is known for named files, for walks when
// they are sized, for a regular file on standard input, and not for a
// walk nobody sizes.
func TestProgressTotal(t *testing.T) {
	dir, files := tree(t, 3) // 100 + 101 + 102 bytes
	stdin, err := os.Open(files[0])
	must(t, err)
	defer stdin.Close()
	cases := []struct {
		name   string
		opts   Options
		inputs []string
		total  int64 // -1: unknown
	}{
		{"named files", Options{}, files, 303},
		{"a sized walk", Options{Recursive: true, SizeWalks: true}, []string{dir, files[0]}, 403},
		{"an unsized walk", Options{Recursive: true}, []string{dir}, -1},
		{"a file on standard input", Options{Stdin: stdin}, []string{"-", files[1]}, 201},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &Progress{}
			tc.opts.Progress = p
			var total int64
			var ok bool
			// Read the total while the run is still on (with its last
			// result), as a progress line does: a total still unknown when
			// the run ends is never needed.
			err := Run(context.Background(), paths(tc.inputs...), tc.opts, func(_ Result, more bool) error {
				for end := time.Now().Add(5 * time.Second); time.Now().Before(end) && tc.total >= 0; time.Sleep(time.Millisecond) {
					if total, ok = p.Total(); ok {
						break
					}
				}
				total, ok = p.Total()
				return nil
			})
			must(t, err)
			if tc.total < 0 {
				if ok {
					t.Fatalf("total %d known, want unknown", total)
				}
				return
			}
			if !ok || total != tc.total {
				t.Fatalf("total %d (known %v), want %d", total, ok, tc.total)
			}
		})
	}
}

func TestProgressETA(t *testing.T) {
	cases := []struct {
		name                   string
		total, read, unchanged int64
		sized                  bool
		elapsed                time.Duration
		want                   time.Duration
		ok                     bool
	}{
		{"a quarter in 1 s", 400, 100, 0, true, time.Second, 3 * time.Second, true},
		{"unchanged count as done", 400, 100, 100, true, time.Second, time.Second, true},
		{"over the total", 100, 150, 0, true, time.Second, 0, true},
		{"total unknown", 400, 100, 0, false, time.Second, 0, false},
		{"nothing done yet", 400, 0, 0, true, time.Second, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &Progress{}
			p.total.Store(tc.total)
			p.sized.Store(tc.sized)
			p.Bytes.Store(tc.read)
			p.UnchangedBytes.Store(tc.unchanged)
			got, ok := p.ETA(tc.elapsed)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("ETA = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestProgressUnchanged: files answered by the stat cache are counted
// apart, at their size.
func TestProgressUnchanged(t *testing.T) {
	dir, _ := tree(t, 3)
	clk := newClock(time.Now().Add(time.Hour))
	path := filepath.Join(t.TempDir(), "statcache")
	cachedRun(t, clk.cache(path), Options{}, dir)
	p := &Progress{}
	clk.add(time.Minute)
	cachedRun(t, clk.cache(path), Options{Progress: p}, dir)
	if p.Files.Load() != 3 || p.Unchanged.Load() != 3 || p.UnchangedBytes.Load() != 303 || p.Bytes.Load() != 0 {
		t.Fatalf("files %d, unchanged %d (%d bytes), read %d", p.Files.Load(), p.Unchanged.Load(), p.UnchangedBytes.Load(), p.Bytes.Load())
	}
}
