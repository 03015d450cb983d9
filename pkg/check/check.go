package check

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/mail"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// Item is one input with what the sources made of it.
type Item struct {
	checksum.Result
	// Reputation is the combined verdict; the zero value for an input
	// that could not be hashed.
	Reputation reputation.Result
	// Unanswered names the sources that were asked about this item and
	// failed, so that a missing network verdict is never silent.
	Unanswered []string
	// Parent is, for an attachment or picture of a message (or a message
	// of an mbox), the path of what holds it; "" for an input.
	Parent string
	// RaisedBy names the part whose verdict raised this item's (a
	// message is as bad as its worst attachment).
	RaisedBy string
	// Spam is, for a message, the spam statistics a participant at the
	// extended level would submit.
	Spam *mail.Spam

	parent int // 1 + the index of Parent's item in its batch; 0: none
}

// Status is "ok", "skipped" or "error", as --json names it.
func (it Item) Status() string {
	switch {
	case it.Skipped() != "":
		return "skipped"
	case it.Err != nil:
		return "error"
	}
	return "ok"
}

// Sink receives results in input order, one lookup batch at a time, on
// one goroutine. An error stops the run.
type Sink interface {
	Batch(items []Item) error
}

// Collector keeps what a participant's check would submit. It is called
// on the lookup goroutine; Flush asks it to write what it holds (the run
// has paused, or ended).
type Collector interface {
	CollectFiles(items []Item)
	Flush()
}

// Network is what joins a run once it has started: more sources and a
// collector. Opening it (reading the participation state, asking the
// server for its status) takes as long as hashing hundreds of small files,
// so it runs on the lookup goroutine while the first files hash.
type Network func(ctx context.Context) ([]reputation.Source, Collector)

// Options are what one run checks and how.
type Options struct {
	// Inputs yields the paths to check, in order; an error ends the run
	// after the results before it (see Inputs).
	Inputs     Paths
	Recursive  bool
	Follow     bool
	Stdin      io.Reader // what "-" reads; nil makes "-" an error
	Algorithms []checksum.Algorithm
	Workers    int
	FailOn     reputation.Verdict
	Progress   *checksum.Progress // optional, read by a progress display
	// SizeWalks sizes the directories walked, for Progress's ETA: a stat
	// of every file, worth it only while a progress line is shown.
	SizeWalks bool
	// StatCache, when set, answers files unchanged since they were hashed
	// without reading them, and is saved at the end of the run. Only
	// digests are cached; every file is looked up again.
	StatCache *StatCache
	// Rehash hashes every file whatever the stat cache says (and
	// refreshes it).
	Rehash bool
	// Mail, when set, reads mail files (found by name and by content):
	// their attachments and pictures are checked as objects of their own.
	Mail *MailOptions
}

// Config is what a run is wired to.
type Config struct {
	// Sources are asked in order for every batch. A source that also
	// implements AlgorithmSource has the digests it is keyed by computed.
	Sources []reputation.Source
	Network Network // optional
	Sink    Sink
	// Warn receives what the user should know but does not stop the run
	// (a stat cache that was damaged and rebuilt); nil drops it.
	Warn func(msg string)
}

// AlgorithmSource is a source keyed by digests beyond those asked for
// (MD5 after a ClamAV .hdb import, say): a run computes them too, so that
// every indicator can match.
type AlgorithmSource interface {
	Algorithms(ctx context.Context) ([]checksum.Algorithm, error)
}

// Summary counts what a run found.
type Summary struct {
	Files    int // every input, including skipped and failed ones
	Verdicts map[reputation.Verdict]int
	Skipped  int
	Failed   int
	// Hashed files were read; Unchanged ones were answered by the stat
	// cache. Both are among the files with a verdict.
	Hashed    int
	Unchanged int
	Threats   int   // at or above FailOn
	Bytes     int64 // read and hashed (unchanged files are not read)
	Elapsed   time.Duration
	// SourceErrors holds the first error of each source that failed; it
	// was not asked again during the run.
	SourceErrors []SourceError
	// Unanswered counts the items some source failed to answer.
	Unanswered int
	// Directories named without -r: among Failed, but no files.
	Directories int
}

// SourceError is a source that failed during a run.
type SourceError struct {
	Source string
	Err    error
}

// lookupBatch bounds how many results wait for one round of lookups;
// lookupLinger is how long a partial batch waits for company.
const (
	lookupBatch  = 512
	lookupLinger = 20 * time.Millisecond
)

// Run checks every input and returns what it found. The error is the
// reason the run stopped early (an unreadable --files-from list, a sink
// that failed, a cancelled context); results before it were delivered.
func Run(ctx context.Context, opts Options, cfg Config) (Summary, error) {
	start := time.Now()
	algs, err := algorithms(ctx, opts.Algorithms, cfg.Sources)
	if err != nil {
		return Summary{}, err
	}
	lk := newLookups(opts.FailOn, cfg)
	if len(algs) == 0 {
		algs = checksum.Default
	}
	var sniff func(string, []byte) bool
	if opts.Mail != nil {
		lk.mail, sniff = &mailReader{opts: *opts.Mail, algs: algs}, sniffMail
	}
	// Results flow to a second goroutine that looks them up in batches:
	// one query per result would cost more than hashing a small file. A
	// batch goes out when full, or when no result came for lookupLinger,
	// so a slow file never holds back the lines of the files before it.
	results := make(chan Item, lookupBatch)
	reported := make(chan error, 1)
	go func() {
		lk.join(ctx)
		reported <- lk.loop(ctx, results)
	}()
	cache := opts.StatCache
	runErr := checksum.Run(ctx, iterPaths(opts.Inputs), checksum.Options{
		Algorithms: algs, Workers: opts.Workers, Recursive: opts.Recursive, Follow: opts.Follow,
		Stdin: opts.Stdin, Progress: opts.Progress, SizeWalks: opts.SizeWalks,
		Cache: cache, Rehash: opts.Rehash, Sniff: sniff,
	}, func(r checksum.Result, _ bool) error {
		results <- Item{Result: r}
		return nil
	})
	close(results)
	// The cache is saved while the last lookups are made.
	saved := make(chan error, 1)
	go func() { saved <- saveCache(cache) }()
	if err := <-reported; runErr == nil {
		runErr = err
	}
	cacheWarnings(cache, <-saved, cfg.Warn)
	if lk.col != nil {
		lk.col.Flush()
	}
	sum := lk.summary
	sum.Elapsed = time.Since(start)
	return sum, runErr
}

// algorithms adds to those asked for the ones a source is keyed by.
func algorithms(ctx context.Context, asked []checksum.Algorithm, sources []reputation.Source) ([]checksum.Algorithm, error) {
	algs := append([]checksum.Algorithm{}, asked...)
	for _, s := range sources {
		if as, ok := s.(AlgorithmSource); ok {
			known, err := as.Algorithms(ctx)
			if err != nil {
				return nil, err
			}
			algs = append(algs, known...)
		}
	}
	return checksum.Canonical(algs), nil
}

// cacheOptions are the stat cache's bounds and clock; tests move the clock.
var cacheOptions = checksum.StatCacheOptions{}

// NewStatCache returns the stat cache kept in the file at path, with the
// default bounds. Nothing is read until a lookup needs it (or Load).
func NewStatCache(path string) *StatCache { return checksum.NewStatCache(path, cacheOptions) }

// saveCache writes what the run learnt into the stat cache, if it used one.
func saveCache(c *checksum.StatCache) error {
	if c == nil {
		return nil
	}
	return c.Save()
}

// cacheWarnings says when the stat cache could not be used or saved: the
// run is right either way, but slower than the user expects.
func cacheWarnings(c *checksum.StatCache, saveErr error, warn func(string)) {
	if c == nil || warn == nil {
		return
	}
	problem := c.Problem()
	switch {
	case problem != nil && saveErr == nil:
		warn(fmt.Sprintf("the stat cache %s could not be used (%v): it was rebuilt, and the files it held were hashed again", c.Path(), problem))
	case problem != nil:
		warn(fmt.Sprintf("the stat cache %s could not be used (%v) nor rebuilt: %v", c.Path(), problem, saveErr))
	case saveErr != nil:
		warn(fmt.Sprintf("could not save the stat cache %s: %v (the next check hashes these files again)", c.Path(), saveErr))
	}
}
