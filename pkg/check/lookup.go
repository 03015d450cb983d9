package check

import (
	"context"
	"errors"

	"fmt"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"

	"github.com/ksnproject/ksn/pkg/reputation"
)

// lookups is the lookup goroutine's state: the sources still in use, the
// collector, and the counts so far.
type lookups struct {
	failOn  reputation.Verdict
	cfg     Config
	sources []reputation.Source
	failed  map[string]bool
	mail    *mailReader // nil: mail files are files like any other
	col     Collector
	summary Summary
}

func newLookups(failOn reputation.Verdict, cfg Config) *lookups {
	return &lookups{failOn: failOn, cfg: cfg, sources: cfg.Sources, failed: map[string]bool{},
		summary: Summary{Verdicts: map[reputation.Verdict]int{}}}
}

// join adds the network's sources and the collector.
func (lk *lookups) join(ctx context.Context) {
	if lk.cfg.Network == nil {
		return
	}
	more, col := lk.cfg.Network(ctx)
	lk.sources = append(append([]reputation.Source{}, lk.sources...), more...)
	lk.col = col
}

// loop looks up and delivers results in input order until results is
// closed. It keeps draining after an error so the hashing side never
// blocks.
func (lk *lookups) loop(ctx context.Context, results <-chan Item) error {
	var batch []Item
	var failed error
	flush := func() {
		if failed == nil && len(batch) > 0 {
			failed = lk.batch(ctx, batch)
		}
		batch = batch[:0]
	}
	linger := time.NewTimer(time.Hour)
	defer linger.Stop()
	for {
		select {
		case it, ok := <-results:
			if !ok {
				flush()
				return failed
			}
			if len(batch) == 0 {
				linger.Reset(lookupLinger)
			}
			batch = append(batch, it)
			if len(batch) >= lookupBatch {
				flush()
			}
		case <-linger.C:
			flush()
			// The run waits (on a slow disk, on a --files-from pipe):
			// what was collected goes to disk, not only to memory.
			if lk.col != nil {
				lk.col.Flush()
			}
		}
	}
}

// batch asks every source about the hashed items of a batch, combines the
// answers, and hands the batch to the sink and the collector.
func (lk *lookups) batch(ctx context.Context, batch []Item) error {
	batch = lk.mail.expand(batch)
	var queries []reputation.FileQuery
	var idx []int
	for i, it := range batch {
		if it.Err == nil {
			queries = append(queries, reputation.FileQuery{Digests: it.Digests, Size: it.Size})
			idx = append(idx, i)
		}
	}
	answers := make([][]reputation.Answer, len(queries))
	for _, s := range lk.sources {
		if lk.failed[s.Name()] {
			continue
		}
		// An operator's override is final: no later source is asked.
		var ask []reputation.FileQuery
		var at []int
		for j, q := range queries {
			if !final(answers[j]) {
				ask = append(ask, q)
				at = append(at, j)
			}
		}
		if len(ask) == 0 {
			continue
		}
		got, err := s.LookupFiles(ctx, ask)
		if err == nil && len(got) != len(ask) {
			err = fmt.Errorf("%s returned %d answers for %d files", s.Name(), len(got), len(ask))
		}
		if err != nil {
			if s.Trust() >= reputation.TrustLocal {
				// Without the local verdicts there is nothing to report.
				return err
			}
			lk.fail(s.Name(), err)
			for _, j := range at {
				batch[idx[j]].Unanswered = append(batch[idx[j]].Unanswered, s.Name())
			}
			continue
		}
		for k, j := range at {
			answers[j] = append(answers[j], got[k])
		}
	}
	for j, i := range idx {
		batch[i].Reputation = reputation.Combine(answers[j])
	}
	raiseParents(batch)
	for _, it := range batch {
		lk.count(it)
	}
	if err := lk.cfg.Sink.Batch(batch); err != nil {
		return err
	}
	if lk.col != nil {
		lk.col.CollectFiles(hashedOnly(batch))
	}
	return nil
}

// hashedOnly leaves out the files the stat cache answered: a record
// describes a hashing (with its time), and an unchanged file was not
// hashed. Re-checking an unchanged tree then writes nothing to the outbox.
func hashedOnly(batch []Item) []Item {
	n := 0
	for _, it := range batch {
		if !it.Cached {
			n++
		}
	}
	if n == len(batch) {
		return batch
	}
	out := make([]Item, 0, n)
	for _, it := range batch {
		if !it.Cached {
			out = append(out, it)
		}
	}
	return out
}

// fail ends a source's use for the run, keeping its first error.
func (lk *lookups) fail(name string, err error) {
	lk.failed[name] = true
	lk.summary.SourceErrors = append(lk.summary.SourceErrors, SourceError{Source: name, Err: err})
}

func (lk *lookups) count(it Item) {
	s := &lk.summary
	s.Files++
	if len(it.Unanswered) > 0 {
		s.Unanswered++
	}
	switch it.Status() {
	case "skipped":
		s.Skipped++
	case "error":
		s.Failed++
		if errors.Is(it.Err, checksum.ErrIsDir) {
			s.Directories++
		}
	default:
		if it.Cached {
			s.Unchanged++
		} else {
			s.Hashed++
			s.Bytes += it.Size
		}
		s.Verdicts[it.Reputation.Verdict]++
		if it.Reputation.Verdict.Severity() >= lk.failOn.Severity() {
			s.Threats++
		}
	}
}

// final reports whether an answer settles the verdict for good.
func final(answers []reputation.Answer) bool {
	for _, a := range answers {
		if a.Trust == reputation.TrustOverride {
			return true
		}
	}
	return false
}

// raiseParents makes each message as bad as its worst part, and each
// mbox as bad as its worst message. Parts come after their parent, so
// walking back raises a message before the mbox that holds it.
func raiseParents(batch []Item) {
	for i := len(batch) - 1; i >= 0; i-- {
		it := batch[i]
		if it.parent == 0 || it.Err != nil {
			continue
		}
		p := &batch[it.parent-1]
		if p.Err == nil && it.Reputation.Verdict.Severity() > p.Reputation.Verdict.Severity() {
			r := it.Reputation
			r.Prevalence, r.Disagreements = p.Reputation.Prevalence, p.Reputation.Disagreements
			p.Reputation, p.RaisedBy = r, it.Path
		}
	}
}
