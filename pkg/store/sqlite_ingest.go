package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"time"

	"github.com/ksnproject/ksn/pkg/seal"
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

// writeParticipants records, for every object of the batch, that the
// participant reported it in the half-year, and counts the participant
// for the objects it had not reported in the half-year before.
func (a *batchAggregates) writeParticipants(ctx context.Context, tx *sql.Tx, label string, dedup seal.Key, participant []byte) error {
	if len(a.order) == 0 {
		return nil
	}
	m := hmac.New(sha256.New, dedup[:])
	bySeen := make(map[string]objectRef, len(a.order))
	args := make([]any, 0, 2*len(a.order))
	for _, ref := range a.order {
		m.Reset()
		m.Write(participant)
		m.Write([]byte(ref.kind))
		m.Write([]byte{0})
		m.Write(ref.key[:])
		seen := m.Sum(nil)[:16]
		bySeen[string(seen)] = ref
		args = append(args, label, seen)
	}
	return insertRows(ctx, tx, `INSERT INTO submission_participants (half_year, seen) VALUES `, 2, args,
		` ON CONFLICT DO NOTHING RETURNING seen`, func(r *sql.Rows) error {
			var seen []byte
			if err := r.Scan(&seen); err != nil {
				return err
			}
			if ref, ok := bySeen[string(seen)]; ok {
				a.objects[ref].participants++
			}
			return nil
		})
}

// write applies the batch's changes to the aggregate tables.
func (a *batchAggregates) write(ctx context.Context, tx *sql.Tx) error {
	for kind, n := range a.kinds {
		if _, err := tx.ExecContext(ctx, `INSERT INTO daily_counts (day, kind, records) VALUES (?, ?, ?)
ON CONFLICT (day, kind) DO UPDATE SET records = records + excluded.records`, a.day, kind, n); err != nil {
			return explainWrite(err)
		}
	}
	if len(a.order) > 0 {
		args := make([]any, 0, 6*len(a.order))
		for _, ref := range a.order {
			d := a.objects[ref]
			args = append(args, ref.kind, ref.key[:], d.participants, d.reports, a.dayUnix, a.dayUnix)
		}
		if err := insertRows(ctx, tx, `INSERT INTO object_stats (kind, object, participants, reports, first_day, last_day) VALUES `, 6, args, `
ON CONFLICT (kind, object) DO UPDATE SET
    participants = participants + excluded.participants,
    reports = reports + excluded.reports,
    first_day = min(first_day, excluded.first_day),
    last_day = max(last_day, excluded.last_day)`, nil); err != nil {
			return explainWrite(err)
		}
	}
	for class, d := range a.scan {
		if _, err := tx.ExecContext(ctx, `INSERT INTO scan_time_classes (size_class, records, total_ms) VALUES (?, ?, ?)
ON CONFLICT (size_class) DO UPDATE SET records = records + excluded.records, total_ms = total_ms + excluded.total_ms`,
			class, d.records, d.totalMS); err != nil {
			return explainWrite(err)
		}
		for b, n := range d.buckets {
			if _, err := tx.ExecContext(ctx, `INSERT INTO scan_time_buckets (size_class, bucket, records) VALUES (?, ?, ?)
ON CONFLICT (size_class, bucket) DO UPDATE SET records = records + excluded.records`, class, b, n); err != nil {
				return explainWrite(err)
			}
		}
	}
	for k, n := range a.systems {
		if _, err := tx.ExecContext(ctx, `INSERT INTO system_counts (os, arch, os_version, ksn_version, cpus, memory, records)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (os, arch, os_version, ksn_version, cpus, memory) DO UPDATE SET records = records + excluded.records`,
			k.os, k.arch, k.osVersion, k.ksnVersion, k.cpus, k.memory, n); err != nil {
			return explainWrite(err)
		}
	}
	return a.writeJudgements(ctx, tx)
}
