package cli

import (
	"context"
	"time"

	"github.com/ksnproject/ksn/pkg/participation"
	"github.com/ksnproject/ksn/pkg/term"
)

// collector keeps, in the local outbox, what a participant's check would
// submit: one record per hashed file and, at most daily, one system record.
// Nothing here touches the network. A failure to collect is a warning: it
// must never cost the user their verdicts.
type collector struct {
	ctx     context.Context
	io      *term.IOStreams
	consent *consent
	active  bool
	version string
	pending []participation.Record
	// writing is the append in flight, on its own goroutine so that the
	// reporter, and through it the hashing workers, never wait for SQLite.
	writing chan error
}

// appendEvery bounds the records held in memory before they are written:
// few large appends cost far less than one per lookup batch, and the bound
// keeps a million-file run from holding every record.
const appendEvery = 4096

func newCollector(ctx context.Context, io *term.IOStreams, loadConsent func(context.Context) (*consent, error), version string) *collector {
	col := &collector{ctx: ctx, io: io, version: version}
	if loadConsent == nil {
		return col
	}
	c, err := loadConsent(ctx)
	if err != nil {
		// A bad setting must not cost the user their local verdicts: the
		// run goes on, not participating, and says why.
		io.Warnf("%v: checking with local verdicts only, nothing is collected or sent", err)
		return col
	}
	col.consent = c
	if c.store == nil {
		io.Warnf("participation state unavailable (%v): not participating, nothing is collected", c.openErr)
		return col
	}
	col.active = c.collects()
	if c.settings.String("endpoint") != "" && !c.status.Participating {
		io.Errorf("notice: local verdicts only: %s (ksn status tells more)", describeState(c.status))
	}
	return col
}

func (col *collector) add(batch []checked) {
	if !col.active {
		return
	}
	now := time.Now().UTC()
	sums := make([]participation.FileSum, 0, 4)
	for _, c := range batch {
		if c.Err != nil {
			continue
		}
		sums = sums[:0]
		for a, d := range c.Digests {
			sums = append(sums, participation.FileSum{Algorithm: string(a), Sum: d})
		}
		r, err := participation.NewCompactFileRecord(sums, c.Size, string(c.Reputation.Verdict), c.Elapsed, now)
		if err != nil {
			col.fail(err)
			return
		}
		col.pending = append(col.pending, r)
	}
	if len(col.pending) >= appendEvery {
		col.flush()
	}
}

// addRecords holds records made elsewhere (a link's, say) for the outbox.
func (col *collector) addRecords(recs ...participation.Record) {
	if !col.active {
		return
	}
	col.pending = append(col.pending, recs...)
	if len(col.pending) >= appendEvery {
		col.flush()
	}
}

// flush writes the records held so far. The reporter also calls it when
// results stop coming for a while, so a run that waits (on a slow disk, on a
// --files-from pipe) has its records on disk, not only in memory.
func (col *collector) flush() {
	col.wait()
	if !col.active || len(col.pending) == 0 {
		return
	}
	recs := col.pending
	col.pending = nil
	col.writing = make(chan error, 1)
	go func() {
		_, err := col.consent.store.Append(col.ctx, recs, col.consent.limits())
		col.writing <- err
	}()
}

// wait finishes the append in flight, if any.
func (col *collector) wait() {
	if col.writing == nil {
		return
	}
	if err := <-col.writing; err != nil {
		col.fail(err)
	}
	col.writing = nil
}

func (col *collector) fail(err error) {
	col.io.Warnf("could not keep this run's records in the local outbox: %v", err)
	col.active = false
}

// close adds the daily system record and releases the state database.
func (col *collector) close() {
	if col.consent == nil {
		return
	}
	defer col.consent.close()
	col.flush()
	col.wait()
	if !col.active {
		return
	}
	r, err := participation.NewRecord(participation.KindSystem, participation.CurrentSystem(col.version), time.Now().UTC())
	if err == nil {
		_, err = col.consent.store.AppendSystemRecord(col.ctx, r, col.consent.limits())
	}
	if err != nil {
		col.fail(err)
	}
}
