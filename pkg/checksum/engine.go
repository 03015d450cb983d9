package checksum

import (
	"context"
	"errors"
	"io"
	"iter"
	"runtime"
	"sync"
	"time"
)

// Result is the outcome for one input, in input order.
type Result struct {
	Path    string // as given on the command line or found by the walk; "-" is stdin
	Size    int64  // bytes hashed
	Digests Digests
	// Err is nil on success, a *SkipError for a deliberately skipped input,
	// or the reason the input could not be hashed.
	Err     error
	Elapsed time.Duration // time spent opening and hashing this input
	// Cached: the digests came from the stat cache, the file unread.
	Cached bool
	// Sniffed: Options.Sniff said yes to the start of the file (or did
	// when the file was hashed, for a cached one).
	Sniffed bool
}

// Skipped returns the skip reason, or "" when the input was not skipped.
func (r Result) Skipped() SkipReason {
	var s *SkipError
	if errors.As(r.Err, &s) {
		return s.Reason
	}
	return ""
}

// Options configure a Run.
type Options struct {
	Algorithms []Algorithm // default Default
	Workers    int         // default GOMAXPROCS
	Recursive  bool        // descend into directories
	Follow     bool        // follow symlinks found while descending
	Stdin      io.Reader   // what "-" reads; nil means "-" is an error
	Progress   *Progress   // optional
	// SizeWalks has a second walk size the directories being checked, so
	// that Progress knows the total (for an ETA). It costs a stat of each
	// file: ask for it only when a progress line is shown.
	SizeWalks bool
	// Cache, when set, answers files unchanged since they were hashed and
	// records what is hashed. Files named one by one are looked up only
	// once they add up to more than reading the cache costs (see
	// directBytes): a single small file is hashed faster than the cache
	// is read.
	Cache *StatCache
	// Rehash hashes every file whatever Cache says, and records the
	// digests in it.
	Rehash bool
	// Sniff, when set, is shown the start of every file as it is read (up
	// to SniffLen bytes, no extra read), and its answer is the result's
	// Sniffed: how a caller learns which files are mail without opening
	// each file twice. The stat cache keeps the answer.
	Sniff func(path string, head []byte) bool
}

// SniffLen is the most of a file's start that Options.Sniff is shown.
const SniffLen = 8192

// Tuning shared by the engine and its tests. A 256 KiB buffer stays in L2
// cache while several digests read it; files from 8 MiB up are worth the
// hand-off to one goroutine per digest, in 1 MiB pieces so that hand-offs
// stay rare.
const (
	bufferSize       = 256 << 10
	pipelineChunk    = 1 << 20
	pipelineMinBytes = 8 << 20
	// window bounds how far hashing may run ahead of the oldest unfinished
	// input, which bounds the memory held by out-of-order results.
	window = 1024
)

// Run hashes every input and calls emit once per result, in input order, on
// the caller's goroutine. more tells emit whether another result is ready
// right now, so a caller batching lookups knows when to flush. Inputs come
// from paths, whose error (e.g. an unreadable --files-from list) ends the
// run after the results before it. An error returned by emit stops the run.
func Run(ctx context.Context, paths iter.Seq2[string, error], opts Options, emit func(r Result, more bool) error) error {
	if len(opts.Algorithms) == 0 {
		opts.Algorithms = Default
	}
	opts.Algorithms = Canonical(opts.Algorithms)
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if !statCacheSupported {
		opts.Cache = nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	jobs := make(chan job, opts.Workers*4)
	results := make(chan indexed, opts.Workers*4)
	slots := make(chan struct{}, window)
	var inputErr error

	go func() {
		defer close(jobs)
		inputErr = enumerate(ctx, paths, opts, func(j job) bool {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return false
			}
			select {
			case jobs <- j:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()

	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Go(func() {
			w := newWorker(opts)
			for j := range jobs {
				r := w.run(j)
				if p := opts.Progress; p != nil {
					if r.Cached {
						p.Unchanged.Add(1)
						p.UnchangedBytes.Add(r.Size)
					}
					p.Files.Add(1)
				}
				results <- indexed{j.seq, r}
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	// Reorder: hold results that finished early until their turn comes.
	pending := make(map[int]Result)
	next := 0
	var emitErr error
	for ir := range results {
		pending[ir.seq] = ir.r
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-slots
			if emitErr != nil {
				continue // drain so the workers can finish
			}
			_, more := pending[next]
			more = more || len(results) > 0
			if err := emit(r, more); err != nil {
				emitErr = err
				cancel()
			}
		}
	}
	if emitErr != nil {
		return emitErr
	}
	if inputErr != nil {
		return inputErr
	}
	return ctx.Err()
}

type indexed struct {
	seq int
	r   Result
}

// job is one input to hash, or an input already settled by the walk (a skip
// or an error found while enumerating) that only needs to keep its place.
type job struct {
	seq       int
	path      string
	stdin     bool
	cacheable bool // look it up in (and record it into) the stat cache
	settled   error
}

type worker struct {
	set         *hasherSet
	buf         []byte
	chunk       int
	pipelineMin int64
	stdin       io.Reader
	progress    *Progress // nil: nobody watches
	cache       *StatCache
	rehash      bool
	sniff       func(path string, head []byte) bool
	path        string // the file being read, for sniff
	sniffed     bool   // sniff's answer for it
}

func newWorker(opts Options) *worker {
	return &worker{
		set:         newHasherSet(opts.Algorithms),
		chunk:       pipelineChunk,
		pipelineMin: pipelineMinBytes,
		stdin:       opts.Stdin,
		progress:    opts.Progress,
		cache:       opts.Cache,
		rehash:      opts.Rehash,
		sniff:       opts.Sniff,
	}
}

// look shows sniff the first piece of the file being read.
func (w *worker) look(first []byte) {
	if w.sniff != nil {
		w.sniffed = w.sniff(w.path, first[:min(len(first), SniffLen)])
	}
}

func (w *worker) run(j job) Result {
	r := Result{Path: j.path}
	if j.settled != nil {
		r.Err = j.settled
		return r
	}
	start := time.Now()
	if j.stdin {
		n, err := w.hashSequential(w.stdin, 0)
		r.Size = n
		if err != nil {
			r.Err = err
		} else {
			r.Digests = w.set.sums()
		}
	} else {
		w.file(j, &r)
	}
	r.Elapsed = time.Since(start)
	return r
}
