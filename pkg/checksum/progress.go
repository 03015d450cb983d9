package checksum

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Progress counts work done so far; a progress display reads it while Run
// works. All fields are updated atomically.
type Progress struct {
	Files atomic.Int64 // inputs finished (hashed, unchanged, skipped or failed)
	// Bytes counts bytes as they are read, so that it moves during a
	// large file or a stream, not only when a file ends.
	Bytes          atomic.Int64
	Unchanged      atomic.Int64 // files whose digests came from the stat cache
	UnchangedBytes atomic.Int64 // their sizes

	total atomic.Int64 // bytes of every input, valid once sized
	sized atomic.Bool
}

// Total is the size of every input, once it is known: when the inputs
// were named regular files (or a regular file on standard input), or
// directories sized by Options.SizeWalks. A stream or an input that could
// not be sized leaves it unknown.
func (p *Progress) Total() (int64, bool) {
	if !p.sized.Load() {
		return 0, false
	}
	return p.total.Load(), true
}

// ETA estimates the time left at the pace so far, elapsed into the run;
// false while the total is unknown or nothing is done yet. Unchanged files
// count as done at their size: the pace then includes them.
func (p *Progress) ETA(elapsed time.Duration) (time.Duration, bool) {
	total, ok := p.Total()
	done := p.Bytes.Load() + p.UnchangedBytes.Load()
	if !ok || done <= 0 || elapsed <= 0 {
		return 0, false
	}
	left := max(total-done, 0)
	return time.Duration(float64(elapsed) * float64(left) / float64(done)), true
}

// sizer adds up the inputs' sizes for Progress, walking directories on a
// goroutine of its own: the enumerator runs at most a window ahead of the
// hashing, so it could not give a total before the end.
type sizer struct {
	ctx     context.Context
	p       *Progress
	follow  bool
	walks   bool // size directories (Options.SizeWalks)
	unknown bool // an input that cannot be sized
	cut     bool // a walk ended early: the run was over (set by the walking goroutine)
	dirs    chan string
	done    sync.WaitGroup
}

func newSizer(ctx context.Context, opts Options) *sizer {
	if opts.Progress == nil {
		return nil
	}
	s := &sizer{ctx: ctx, p: opts.Progress, follow: opts.Follow, walks: opts.SizeWalks}
	if s.walks && opts.Recursive {
		s.dirs = make(chan string, 64)
		s.done.Go(func() {
			for d := range s.dirs {
				s.walk(d)
			}
		})
	}
	return s
}

// file adds a named input's size; size < 0 is an input that cannot be
// sized (a pipe on standard input).
func (s *sizer) file(size int64) {
	if s == nil {
		return
	}
	if size < 0 {
		s.unknown = true
		return
	}
	s.p.total.Add(size)
}

// dir sizes a directory being walked, or gives up the total.
func (s *sizer) dir(path string) {
	if s == nil {
		return
	}
	if s.dirs == nil {
		s.unknown = true
		return
	}
	s.dirs <- path
}

// finish is called when the enumeration ends; complete: every input was
// enumerated, and the total is known once the walks are sized.
func (s *sizer) finish(complete bool) {
	if s == nil {
		return
	}
	if s.dirs != nil {
		close(s.dirs)
	}
	if s.unknown || !complete {
		return
	}
	go func() {
		s.done.Wait()
		if !s.cut {
			s.p.sized.Store(true)
		}
	}()
}

// walk adds the sizes of the regular files under root, as the enumerator
// will find them (symlinks to files with --follow; not those to
// directories, so the total may fall short, never loop).
func (s *sizer) walk(root string) {
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if s.ctx.Err() != nil {
			s.cut = true
			return filepath.SkipAll
		}
		if err != nil {
			return nil
		}
		var fi fs.FileInfo
		switch t := d.Type(); {
		case t.IsRegular():
			fi, err = d.Info()
		case t&fs.ModeSymlink != 0 && s.follow:
			fi, err = os.Stat(path)
		default:
			return nil
		}
		if err == nil && fi.Mode().IsRegular() {
			s.p.total.Add(fi.Size())
		}
		return nil
	})
}
