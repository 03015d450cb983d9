package store

import (
	"bytes"
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"
)

// batchAggregates collects one batch's changes to the aggregates, written
// with one statement per row touched rather than per record.
type batchAggregates struct {
	day     string // YYYY-MM-DD of the receipt
	dayUnix int64
	kinds   map[string]int64
	objects map[objectRef]*objectDelta
	order   []objectRef // objects in first-seen order, for the participant rows
	scan    map[string]*scanDelta
	systems map[systemKey]int64
	judged  map[objectRef]*judgeDelta // spam judgements (spam.go); nil: none
}

type objectRef struct {
	kind string
	key  [32]byte
}

type objectDelta struct {
	reports, participants int64
}

type scanDelta struct {
	records int64
	totalMS float64
	buckets map[int]int64
}

type systemKey struct {
	os, arch, osVersion, ksnVersion, cpus, memory string
}

func newBatchAggregates(at time.Time) *batchAggregates {
	day := at.UTC().Truncate(24 * time.Hour)
	return &batchAggregates{
		day:     day.Format(time.DateOnly),
		dayUnix: day.Unix(),
		kinds:   map[string]int64{},
		objects: map[objectRef]*objectDelta{},
		scan:    map[string]*scanDelta{},
		systems: map[systemKey]int64{},
	}
}

func (a *batchAggregates) add(sub Submission) {
	a.kinds[sub.Record.Kind]++
	switch {
	case sub.File != nil:
		a.object(ObjectFile, sub.File.SHA256)
		a.scanTime(SizeClass(sub.File.Size), sub.File.HashMS)
	case sub.URL != nil:
		a.object(ObjectURL, sub.URL.Key)
		a.scanTime(URLClass, sub.URL.CheckMS)
	case sub.System != nil:
		f := sub.System
		a.systems[systemKey{f.OS, f.Arch, OSVersionClass(f.OSVersion), f.KSNVersion, CPUClass(f.CPUs), MemoryClass(f.MemoryGiB)}]++
	case sub.Spam != nil:
		a.addSpam(sub.Spam)
	}
}

func (a *batchAggregates) object(kind string, key [32]byte) {
	ref := objectRef{kind, key}
	d, ok := a.objects[ref]
	if !ok {
		d = &objectDelta{}
		a.objects[ref] = d
		a.order = append(a.order, ref)
	}
	d.reports++
}

func (a *batchAggregates) scanTime(class string, ms float64) {
	d, ok := a.scan[class]
	if !ok {
		d = &scanDelta{buckets: map[int]int64{}}
		a.scan[class] = d
	}
	d.records++
	d.totalMS += ms
	d.buckets[ScanBucket(ms)]++
}

// write applies the batch's changes to the aggregate tables. newObjects
// says whether it added objects that object_stats did not hold.
func (a *batchAggregates) write(ctx context.Context, tx *sql.Tx) (newObjects bool, err error) {
	for kind, n := range a.kinds {
		if _, err := tx.ExecContext(ctx, `INSERT INTO daily_counts (day, kind, records) VALUES (?, ?, ?)
ON CONFLICT (day, kind) DO UPDATE SET records = records + excluded.records`, a.day, kind, n); err != nil {
			return false, explainWrite(err)
		}
	}
	if len(a.order) > 0 {
		// In key order: each page of the table is visited once, in turn,
		// rather than as the objects arrived.
		refs := slices.Clone(a.order)
		slices.SortFunc(refs, compareRefs)
		args := make([]any, 0, 5*len(refs))
		for _, ref := range refs {
			d := a.objects[ref]
			args = append(args, ref.kind, ref.key[:], d.participants, d.reports, a.dayUnix)
		}
		// An update of the objects known, then an insert of the others,
		// both OR IGNORE: a multi-row statement that may fail on a
		// constraint (an upsert's update may) keeps a journal of every
		// page it changes, to undo itself alone, in memory allocated and
		// freed page by page; for the object rows of a group that was a
		// fifth of the writer's time. Neither can conflict but on the key,
		// and on the key the insert's OR IGNORE is what is meant: the
		// update counted that object already.
		if _, err := insertRows(ctx, tx, `UPDATE OR IGNORE object_stats SET
    participants = participants + v.column3, reports = reports + v.column4,
    first_day = min(first_day, v.column5), last_day = max(last_day, v.column5)
FROM (VALUES `, 5, args, `) AS v WHERE object_stats.kind = v.column1 AND object_stats.object = v.column2`, nil); err != nil {
			return false, explainWrite(err)
		}
		inserted, err := insertRows(ctx, tx, `INSERT OR IGNORE INTO object_stats (kind, object, participants, reports, first_day, last_day)
SELECT column1, column2, column3, column4, column5, column5 FROM (VALUES `, 5, args, `)`, nil)
		if err != nil {
			return false, explainWrite(err)
		}
		newObjects = inserted > 0
	}
	for class, d := range a.scan {
		if _, err := tx.ExecContext(ctx, `INSERT INTO scan_time_classes (size_class, records, total_ms) VALUES (?, ?, ?)
ON CONFLICT (size_class) DO UPDATE SET records = records + excluded.records, total_ms = total_ms + excluded.total_ms`,
			class, d.records, d.totalMS); err != nil {
			return false, explainWrite(err)
		}
		for b, n := range d.buckets {
			if _, err := tx.ExecContext(ctx, `INSERT INTO scan_time_buckets (size_class, bucket, records) VALUES (?, ?, ?)
ON CONFLICT (size_class, bucket) DO UPDATE SET records = records + excluded.records`, class, b, n); err != nil {
				return false, explainWrite(err)
			}
		}
	}
	for k, n := range a.systems {
		if _, err := tx.ExecContext(ctx, `INSERT INTO system_counts (os, arch, os_version, ksn_version, cpus, memory, records)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (os, arch, os_version, ksn_version, cpus, memory) DO UPDATE SET records = records + excluded.records`,
			k.os, k.arch, k.osVersion, k.ksnVersion, k.cpus, k.memory, n); err != nil {
			return false, explainWrite(err)
		}
	}
	return newObjects, a.writeJudgements(ctx, tx)
}

// compareRefs orders objects as object_stats' key does.
func compareRefs(x, y objectRef) int {
	if c := strings.Compare(x.kind, y.kind); c != 0 {
		return c
	}
	return bytes.Compare(x.key[:], y.key[:])
}
