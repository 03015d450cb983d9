package linkcheck

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// Link is one input and what ksn learned of it.
type Link struct {
	Input     string
	Canonical urlcanon.Canonical
	Lookup    urlcanon.Lookup
	Err       error // the input is not a link ksn can check
	Result    reputation.Result
	Matched   []string // the expressions that matched, in the order sources answered
	Elapsed   time.Duration
	// Unanswered names the sources that were asked and failed.
	Unanswered []string
}

// Sink receives the links in input order, one batch at a time.
type Sink interface {
	Batch(links []Link) error
}

// Collector keeps what a participant's run would submit.
type Collector interface {
	CollectLinks(links []Link)
}

// Options are what a run checks.
type Options struct {
	Links  []string  // as given; "-" reads links from Stdin, one a line
	Stdin  io.Reader // what "-" reads
	FailOn reputation.Verdict
}

// Config is what a run is wired to.
type Config struct {
	Sources   []reputation.Source // asked in order for every batch
	Sink      Sink
	Collector Collector // optional
}

// Summary counts what a run found.
type Summary struct {
	Links        int
	Threats      int // at or above FailOn
	Failed       int // inputs that are not links ksn can check
	SourceErrors []SourceError
}

// SourceError is a source that failed during a run; it was not asked again.
type SourceError struct {
	Source string
	Err    error
}

// Batch is how many links are looked up, delivered and recorded at once:
// a stream of a million links is checked in constant memory.
const Batch = 1000

// Run checks every link. The error is the reason it stopped early (a
// source of local verdicts failed, the sink failed, standard input broke).
func Run(ctx context.Context, opts Options, cfg Config) (Summary, error) {
	r := &run{opts: opts, cfg: cfg, failed: map[string]bool{}}
	batch := make([]Link, 0, Batch)
	err := Read(opts.Links, opts.Stdin, func(l Link) error {
		batch = append(batch, l)
		if len(batch) < Batch {
			return nil
		}
		err := r.check(ctx, batch)
		batch = batch[:0]
		return err
	})
	if err == nil && len(batch) > 0 {
		err = r.check(ctx, batch)
	}
	return r.sum, err
}

type run struct {
	opts   Options
	cfg    Config
	failed map[string]bool
	sum    Summary
}

func (r *run) check(ctx context.Context, links []Link) error {
	start := time.Now()
	answers := make([][]reputation.Answer, len(links))
	for _, s := range r.cfg.Sources {
		if r.failed[s.Name()] {
			continue
		}
		var ask []reputation.LinkQuery
		var at []int
		for i, l := range links {
			if l.Err == nil && !final(answers[i]) {
				ask = append(ask, l.Lookup)
				at = append(at, i)
			}
		}
		if len(ask) == 0 {
			continue
		}
		got, err := s.LookupLinks(ctx, ask)
		if err == nil && len(got) != len(ask) {
			err = fmt.Errorf("%s returned %d answers for %d links", s.Name(), len(got), len(ask))
		}
		if err != nil {
			if s.Trust() >= reputation.TrustLocal {
				return err
			}
			r.failed[s.Name()] = true
			r.sum.SourceErrors = append(r.sum.SourceErrors, SourceError{Source: s.Name(), Err: err})
			for _, i := range at {
				links[i].Unanswered = append(links[i].Unanswered, s.Name())
			}
			continue
		}
		for k, i := range at {
			answers[i] = append(answers[i], got[k])
		}
	}
	// The lookups are batched, so a link's share of its batch is the
	// honest "time spent checking it".
	share := time.Since(start) / time.Duration(len(links))
	for i := range links {
		l := &links[i]
		l.Elapsed = share
		r.sum.Links++
		if l.Err != nil {
			r.sum.Failed++
			continue
		}
		l.Result = reputation.Combine(answers[i])
		for _, a := range answers[i] {
			for _, m := range a.Matched {
				if !slices.Contains(l.Matched, m) {
					l.Matched = append(l.Matched, m)
				}
			}
		}
		if l.Result.Verdict.Severity() >= r.opts.FailOn.Severity() {
			r.sum.Threats++
		}
	}
	if err := r.cfg.Sink.Batch(links); err != nil {
		return err
	}
	if r.cfg.Collector != nil {
		r.cfg.Collector.CollectLinks(links)
	}
	return nil
}

// final reports whether an answer settles the verdict for good (an
// operator's override): later sources are not asked.
func final(answers []reputation.Answer) bool {
	for _, a := range answers {
		if a.Trust == reputation.TrustOverride {
			return true
		}
	}
	return false
}
