package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// storeGroup writes batches in one transaction, one commit for all: the
// write lock, the commit and the pages a batch shares with the others
// (the tables' inner pages, the aggregates' rows) are paid once per group
// instead of once per batch. Each batch is still all or nothing: one
// whose request ended, whose key cannot be had or that reuses an id is
// answered with its error and writes nothing, before anything is written;
// the others are written with one statement per table for the whole group
// (SQLite journals a statement's pages again whenever a later statement
// of the transaction changes them, so per-batch statements would pay for
// each other). An error while writing fails every batch of the group and
// writes none: the transaction is rolled back.
func (s *Server) storeGroup(ctx context.Context, jobs []*groupJob) {
	var live []*groupJob
	for _, j := range jobs {
		switch {
		case j.ctx.Err() != nil:
			j.err = j.ctx.Err()
		case len(j.subs) > 0:
			live = append(live, j)
		}
	}
	if len(live) == 0 {
		return
	}
	failAll := func(err error) {
		for _, j := range live {
			if j.err == nil {
				j.accepted, j.duplicates, j.err = 0, 0, err
			}
		}
	}
	keys, err := s.keysFor(ctx)
	if err != nil {
		failAll(err)
		return
	}
	conn, release, err := s.writerConn(ctx)
	if err != nil {
		failAll(explainWrite(err))
		return
	}
	defer release()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		failAll(explainWrite(err))
		return
	}
	defer tx.Rollback()
	gen, err := s.writeGroup(ctx, tx, keys, live)
	if err != nil {
		failAll(err)
		return
	}
	if err := tx.Commit(); err != nil {
		failAll(explainWrite(err))
		return
	}
	if gen != 0 {
		s.filter.added(s, gen)
	}
}

// groupWrite is what a group writes, gathered batch by batch.
type groupWrite struct {
	sealed  []any                       // id, half_year, sealed, digest
	seen    []any                       // half_year, seen
	seenFor map[string]*objectDelta     // by half_year + seen: the object it counts a participant of
	days    map[string]*batchAggregates // by day received
	inGroup map[string]storedRecord     // ids written by earlier batches of the group
	stored  map[string]storedRecord     // ids stored before
	keys    DataKeys
}

// writeGroup writes the group in tx. When it adds objects, it returns the
// key generation tx took (serverFilter.adding), else 0.
func (s *Server) writeGroup(ctx context.Context, tx *sql.Tx, keys DataKeys, jobs []*groupJob) (gen int64, err error) {
	g := &groupWrite{seenFor: map[string]*objectDelta{}, days: map[string]*batchAggregates{},
		inGroup: map[string]storedRecord{}, keys: keys}
	if g.stored, err = storedRecords(ctx, tx, jobs); err != nil {
		return 0, explainWrite(err)
	}
	for _, j := range jobs {
		dk, err := s.dataKeyFor(ctx, tx, keys, j.label, j.at)
		if err == nil && j.under != dk {
			err = j.seal(dk)
		}
		if err != nil {
			j.err = err // its own: a purged half-year, a lost key
			continue
		}
		fresh, err := g.admit(&s.sealing, j, dk)
		if err != nil {
			j.accepted, j.duplicates, j.err = 0, 0, err // the duplicates counted before it are not answered
			continue
		}
		if err := g.add(ctx, tx, j, dk, fresh); err != nil {
			return 0, err
		}
	}
	// Rows in key order, so that each page of a table's index is visited
	// once, in turn, rather than as the records came.
	sortRows(g.sealed, 4, func(a, b []any) int { return bytes.Compare(a[0].([]byte), b[0].([]byte)) })
	sortRows(g.seen, 2, func(a, b []any) int {
		if c := strings.Compare(a[0].(string), b[0].(string)); c != 0 {
			return c
		}
		return bytes.Compare(a[1].([]byte), b[1].([]byte))
	})
	// OR IGNORE: a multi-row statement that may fail on a constraint
	// keeps a journal of every page it changes, to undo itself alone, and
	// that was a fifth of a group's time. Nothing here can conflict (the
	// ids are new: storedRecords, under the write lock), and the count
	// says if something did.
	n, err := insertRows(ctx, tx, `INSERT OR IGNORE INTO sealed_submissions (id, half_year, sealed, digest) VALUES `, 4, g.sealed, ``, nil)
	if err != nil {
		return 0, explainWrite(err)
	}
	if n != int64(len(g.sealed)/4) {
		return 0, fmt.Errorf("%d of %d records could not be inserted", int64(len(g.sealed)/4)-n, len(g.sealed)/4)
	}
	_, err = insertRows(ctx, tx, `INSERT OR IGNORE INTO submission_participants (half_year, seen) VALUES `, 2, g.seen,
		` RETURNING half_year, seen`, func(r *sql.Rows) error {
			var label string
			var seen []byte
			if err := r.Scan(&label, &seen); err != nil {
				return err
			}
			if d := g.seenFor[label+string(seen)]; d != nil {
				d.participants++
			}
			return nil
		})
	if err != nil {
		return 0, explainWrite(err)
	}
	var fps []uint64
	for _, agg := range g.days {
		added, err := agg.write(ctx, tx)
		if err != nil {
			return 0, err
		}
		if added {
			for _, ref := range agg.order {
				fps = append(fps, s.filter.fp.object(ref.kind, ref.key[:]))
			}
		}
	}
	if len(fps) == 0 {
		return 0, nil
	}
	gen, err = s.filter.adding(ctx, tx, fps)
	return gen, explainWrite(err)
}

// admit decides a batch's records: new (their indexes, in batch order),
// or duplicates of what is stored or written earlier in the group, or an
// *IDReusedError naming the first record that reuses an id.
func (g *groupWrite) admit(sg *sealing, j *groupJob, dk *dataKey) (fresh []int, err error) {
	first := make(map[string]int, len(j.subs))
	for i, sub := range j.subs {
		if f, ok := first[string(j.ids[i])]; ok {
			if !hmac.Equal(j.digests[i], j.digests[f]) {
				return nil, &IDReusedError{Index: i, ID: sub.Record.ID}
			}
			j.duplicates++
			continue
		}
		first[string(j.ids[i])] = i
	}
	check := newReuseCheck(sg, g.keys, dk, j.subs, j.digests)
	for i := range j.subs {
		id := string(j.ids[i])
		if first[id] != i {
			continue
		}
		prev, ok := g.inGroup[id]
		if !ok {
			prev, ok = g.stored[id]
		}
		if !ok {
			fresh = append(fresh, i)
			continue
		}
		same, err := check.same(i, prev.label, prev.digest)
		if err != nil {
			return nil, err
		}
		if !same {
			return nil, &IDReusedError{Index: i, ID: j.subs[i].Record.ID}
		}
		j.duplicates++
	}
	for _, i := range fresh {
		g.inGroup[string(j.ids[i])] = storedRecord{j.label, j.digests[i]}
	}
	j.accepted = len(fresh)
	return fresh, nil
}

// add puts a batch's new records into the group's rows, takes the
// sender's seat and gathers its aggregates and participant rows.
func (g *groupWrite) add(ctx context.Context, tx *sql.Tx, j *groupJob, dk *dataKey, fresh []int) error {
	if len(fresh) == 0 {
		return nil
	}
	day := j.at.Truncate(24 * time.Hour).Format(time.DateOnly)
	agg := g.days[day]
	if agg == nil {
		agg = newBatchAggregates(j.at)
		g.days[day] = agg
	}
	for _, i := range fresh {
		g.sealed = append(g.sealed, j.ids[i], j.label, j.sealed[i], j.digests[i])
		agg.add(j.subs[i])
	}
	seated, err := seatFor(ctx, tx, j.label, dk.seats, j.from.License, j.from.Seats, j.part)
	if err != nil || !seated {
		return err
	}
	var refs []objectRef
	for _, i := range fresh {
		refs = appendObjects(refs[:0], j.subs[i])
		for n, ref := range refs {
			seen := j.seen[i][16*n : 16*(n+1)]
			k := j.label + string(seen)
			if _, ok := g.seenFor[k]; ok {
				continue // the same object twice in the batch, or from this sender earlier in the group
			}
			g.seenFor[k] = agg.objects[ref]
			g.seen = append(g.seen, j.label, seen)
		}
	}
	return nil
}
