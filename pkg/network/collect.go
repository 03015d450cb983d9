package network

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ksnproject/ksn/pkg/check"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/mail"
	"github.com/ksnproject/ksn/pkg/participation"
)

// Collector keeps, in the local outbox, what a participant's command
// would submit: one record per hashed file or checked link and, at most
// daily, one system record. Nothing here touches the network. A failure
// to collect is a warning: it must never cost the user their verdicts.
type Collector struct {
	ctx     context.Context
	msg     Messages
	consent *Consent
	active  bool
	pending []participation.Record
	// writing is the append in flight, on its own goroutine so that the
	// lookups, and through them the hashing workers, never wait for SQLite.
	writing chan error
}

// appendEvery bounds the records held in memory before they are written:
// few large appends cost far less than one per lookup batch, and the bound
// keeps a million-file run from holding every record.
const appendEvery = 4096

// NewCollector starts collecting for c (nil collects nothing). It says
// once, on standard error, why nothing is collected or sent when that is
// news to the user.
func NewCollector(ctx context.Context, msg Messages, c *Consent) *Collector {
	col := &Collector{ctx: ctx, msg: msg, consent: c}
	if c == nil {
		return col
	}
	if c.store == nil {
		msg.Warnf("participation state unavailable (%v): not participating, nothing is collected", c.openErr)
		return col
	}
	col.active = c.collects()
	if c.Endpoint() != "" && !c.status.Participating && c.firstNotice() {
		msg.Errorf("notice: local verdicts only: %s (ksn status tells more)", DescribeState(c.status))
	}
	return col
}

// noticeFile remembers the participation state the "local verdicts only"
// notice was last given for, so that it is given once per state, not on
// every check of a script that runs ksn a thousand times.
const noticeFile = "notice-shown"

// firstNotice reports whether the notice for the current state is news,
// and remembers that it has been given. When the cache cannot be written,
// the notice is given every time rather than never.
func (c *Consent) firstNotice() bool {
	key := c.status.Reason
	if d := c.status.Decision; d != nil {
		key += fmt.Sprintf(" %d", d.Seq)
	}
	key += " " + c.Endpoint()
	p := filepath.Join(c.env.Paths.Cache, noticeFile)
	if b, err := os.ReadFile(p); err == nil && string(b) == key {
		return false
	}
	if os.MkdirAll(c.env.Paths.Cache, 0o700) == nil {
		_ = os.WriteFile(p, []byte(key), 0o600)
	}
	return true
}

// CollectFiles holds the record of every hashed file of a batch.
func (col *Collector) CollectFiles(batch []check.Item) {
	if col == nil || !col.active {
		return
	}
	now := time.Now().UTC()
	sums := make([]participation.FileSum, 0, 4)
	for _, it := range batch {
		if it.Spam != nil && it.Err == nil {
			// A message's spam statistics; its parts are not files of
			// their own (their digests are in the statistics).
			r, err := participation.NewRecord(participation.KindSpam, *it.Spam, now)
			if err != nil {
				col.fail(err)
				return
			}
			col.pending = append(col.pending, r)
		}
		if it.Err != nil || it.Parent != "" {
			continue
		}
		sums = sums[:0]
		for a, d := range it.Digests {
			sums = append(sums, participation.FileSum{Algorithm: string(a), Sum: d})
		}
		r, err := participation.NewCompactFileRecord(sums, it.Size, string(it.Reputation.Verdict), it.Elapsed, now)
		if err != nil {
			col.fail(err)
			return
		}
		col.pending = append(col.pending, r)
	}
	if len(col.pending) >= appendEvery {
		col.Flush()
	}
}

// add holds records made elsewhere (a link's, say) for the outbox.
func (col *Collector) add(recs ...participation.Record) {
	if col == nil || !col.active {
		return
	}
	col.pending = append(col.pending, recs...)
	if len(col.pending) >= appendEvery {
		col.Flush()
	}
}

// Flush writes the records held so far, on a goroutine of its own; Wait
// (or Close) waits for it.
func (col *Collector) Flush() {
	if col == nil {
		return
	}
	col.Wait()
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

// Wait finishes the append in flight, if any.
func (col *Collector) Wait() {
	if col == nil || col.writing == nil {
		return
	}
	if err := <-col.writing; err != nil {
		col.fail(err)
	}
	col.writing = nil
}

func (col *Collector) fail(err error) {
	col.msg.Warnf("could not keep this run's records in the local outbox: %v", err)
	col.active = false
}

// Close writes what is held, adds the daily system record, and releases
// the participation state.
func (col *Collector) Close() {
	if col == nil || col.consent == nil {
		return
	}
	defer col.consent.Close()
	col.Flush()
	col.Wait()
	if !col.active {
		return
	}
	r, err := participation.NewRecord(participation.KindSystem, participation.CurrentSystem(col.consent.env.Version), time.Now().UTC())
	if err == nil {
		_, err = col.consent.store.AppendSystemRecord(col.ctx, r, col.consent.limits())
	}
	if err != nil {
		col.fail(err)
	}
}

// ReportSpam keeps in the outbox the participant's judgement of messages
// (`ksn mail report`): one spam record each, as a check of them would
// make, with the judgement set. Nothing is kept when nothing is collected
// (a pause, the basic level); kept says how many were.
func (c *Consent) ReportSpam(ctx context.Context, spams []mail.Spam, j mail.Judgement) (kept int, err error) {
	if err := c.Usable(); err != nil {
		return 0, err
	}
	if !c.collects() {
		return 0, nil
	}
	now := time.Now().UTC()
	recs := make([]participation.Record, 0, len(spams))
	for _, s := range spams {
		r, err := participation.NewRecord(participation.KindSpam, s.Report(j), now)
		if err != nil {
			return 0, err
		}
		recs = append(recs, r)
	}
	if _, err := c.store.Append(ctx, recs, c.limits()); err != nil {
		return 0, err
	}
	return len(recs), nil
}

// ReportMail reads the messages of the mail files (messages or mboxes),
// with the relays mail.own_relays names as the user's own, and keeps the
// participant's judgement of each (ReportSpam). unreadable hears of each
// message that could not be read; messages counts those judged.
func (c *Consent) ReportMail(ctx context.Context, files []string, j mail.Judgement, unreadable func(path string, err error)) (messages, kept int, err error) {
	relays, err := check.ParseRelays(c.Settings().String("mail.own_relays"))
	if err != nil {
		return 0, 0, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("mail.own_relays: %v", err)}
	}
	var all []mail.Spam
	for _, file := range files {
		spams, bad := check.ObserveMail(file, check.MailOptions{Relays: relays})
		for _, it := range bad {
			unreadable(it.Path, it.Err)
		}
		all = append(all, spams...)
	}
	kept, err = c.ReportSpam(ctx, all, j)
	return len(all), kept, err
}
