package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ksnproject/ksn/pkg/halfyear"
	"github.com/ksnproject/ksn/pkg/seal"
)

// StoreSubmissions is Server.StoreSubmissions. Replicas may store the same
// batch at the same moment (a client retrying through another replica):
// the primary key on the record id stores it once, and the later
// transaction, whose insert waited for the first, counts the records as
// duplicates, or refuses the batch when a record differs (id-reused).
// Rows are written in key order, so that concurrent batches lock them in
// one order; a deadlock PostgreSQL breaks anyway runs the batch again.
func (s *PostgresServer) StoreSubmissions(ctx context.Context, from Sender, subs []Submission, at time.Time) (accepted, duplicates int, err error) {
	fail := func(err error) (int, int, error) { return 0, 0, fmt.Errorf("store submissions: %w", err) }
	part, err := ParseParticipant(from.Participant)
	if err != nil {
		return fail(err)
	}
	ids := make([][]byte, len(subs))
	for i, sub := range subs {
		if ids[i], err = ParseRecordID(sub.Record.ID); err != nil {
			return fail(err)
		}
		if err := sub.checkFacts(); err != nil {
			return fail(err)
		}
	}
	if len(subs) == 0 {
		return 0, 0, nil
	}
	keys, err := s.keysFor()
	if err != nil {
		return fail(err)
	}
	b := &pgBatch{from: from, part: part, ids: ids, subs: subs, at: at.UTC(), label: halfyear.Of(at.UTC()).String(), keys: keys}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		accepted, duplicates, err = s.storeBatch(ctx, tx, b)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return accepted, duplicates, nil
}

// pgBatch is one StoreSubmissions call, checked.
type pgBatch struct {
	from  Sender
	part  []byte
	ids   [][]byte
	subs  []Submission
	at    time.Time
	label string
	keys  DataKeys
}

func (s *PostgresServer) storeBatch(ctx context.Context, tx pgx.Tx, b *pgBatch) (accepted, duplicates int, err error) {
	dk, err := s.pgDataKeyFor(ctx, tx, b.keys, b.label, b.at)
	if err != nil {
		return 0, 0, err
	}
	ids, subs, label := b.ids, b.subs, b.label
	// Digests in batch order: an id twice in the batch must come with
	// the same record both times, and the first that does not is named.
	digests := make([][]byte, len(subs))
	first := make(map[string]int, len(subs))
	for i, sub := range subs {
		digests[i] = recordDigest(dk.digest, sub.Record)
		if j, ok := first[string(ids[i])]; ok {
			if !hmac.Equal(digests[i], digests[j]) {
				return 0, 0, &IDReusedError{Index: i, ID: sub.Record.ID}
			}
			continue
		}
		first[string(ids[i])] = i
	}
	nonces := make([]byte, seal.NonceSize*len(subs))
	if _, err := rand.Read(nonces); err != nil {
		return 0, 0, err
	}
	order := make([]int, 0, len(first))
	for _, i := range first {
		order = append(order, i)
	}
	slices.SortFunc(order, func(x, y int) int { return bytes.Compare(ids[x], ids[y]) })
	rowIDs := make([][]byte, len(order))
	sealed := make([][]byte, len(order))
	rowDigests := make([][]byte, len(order))
	var aad, pt []byte
	for n, i := range order {
		pt = appendPlaintext(pt[:0], subs[i].Record)
		aad = append(append(aad[:0], ids[i]...), label...)
		sealed[n] = dk.sealer.SealWithNonce(make([]byte, 0, len(pt)+seal.Overhead),
			[seal.NonceSize]byte(nonces[i*seal.NonceSize:]), aad, pt)
		rowIDs[n], rowDigests[n] = ids[i], digests[i]
	}
	rows, err := tx.Query(ctx, `INSERT INTO sealed_submissions (id, half_year, sealed, digest)
SELECT id, $2, sealed, digest FROM unnest($1::bytea[], $3::bytea[], $4::bytea[]) AS t(id, sealed, digest)
ON CONFLICT (id) DO NOTHING RETURNING id`, rowIDs, label, sealed, rowDigests)
	if err != nil {
		return 0, 0, err
	}
	inserted := make(map[string]bool, len(subs))
	var id []byte
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error { inserted[string(id)] = true; return nil }); err != nil {
		return 0, 0, err
	}
	if len(inserted) < len(order) {
		if err := s.pgCheckReused(ctx, tx, b, dk, digests, first, inserted); err != nil {
			return 0, 0, err
		}
	}
	agg := newBatchAggregates(b.at)
	for i, sub := range subs {
		if !inserted[string(ids[i])] {
			duplicates++
			continue
		}
		delete(inserted, string(ids[i])) // a second copy in the batch is a duplicate
		accepted++
		agg.add(sub)
	}
	if accepted > 0 {
		seated, err := pgSeatFor(ctx, tx, label, dk.seats, b.from.License, b.from.Seats, b.part)
		if err != nil {
			return 0, 0, err
		}
		if seated {
			if err := pgWriteParticipants(ctx, tx, agg, label, dk.dedup, b.part); err != nil {
				return 0, 0, err
			}
		}
	}
	if err := pgWriteAggregates(ctx, tx, agg); err != nil {
		return 0, 0, err
	}
	return accepted, duplicates, nil
}

// pgWriteParticipants is batchAggregates.writeParticipants on PostgreSQL.
func pgWriteParticipants(ctx context.Context, tx pgx.Tx, a *batchAggregates, label string, dedup seal.Key, participant []byte) error {
	if len(a.order) == 0 {
		return nil
	}
	m := hmac.New(sha256.New, dedup[:])
	bySeen := make(map[string]objectRef, len(a.order))
	seen := make([][]byte, 0, len(a.order))
	for _, ref := range a.order {
		m.Reset()
		m.Write(participant)
		m.Write([]byte(ref.kind))
		m.Write([]byte{0})
		m.Write(ref.key[:])
		h := m.Sum(nil)[:16]
		bySeen[string(h)] = ref
		seen = append(seen, h)
	}
	slices.SortFunc(seen, bytes.Compare)
	rows, err := tx.Query(ctx, `INSERT INTO submission_participants (half_year, seen)
SELECT $1, seen FROM unnest($2::bytea[]) AS t(seen) ON CONFLICT DO NOTHING RETURNING seen`, label, seen)
	if err != nil {
		return err
	}
	var h []byte
	_, err = pgx.ForEachRow(rows, []any{&h}, func() error {
		if ref, ok := bySeen[string(h)]; ok {
			a.objects[ref].participants++
		}
		return nil
	})
	return err
}

// pgWriteAggregates is batchAggregates.write on PostgreSQL: one statement
// per table, rows in key order.
func pgWriteAggregates(ctx context.Context, tx pgx.Tx, a *batchAggregates) error {
	if len(a.order) > 0 {
		refs := slices.Clone(a.order)
		slices.SortFunc(refs, compareRefs)
		kinds := make([]string, len(refs))
		objects := make([][]byte, len(refs))
		parts := make([]int64, len(refs))
		reports := make([]int64, len(refs))
		for i, ref := range refs {
			d := a.objects[ref]
			kinds[i], objects[i], parts[i], reports[i] = ref.kind, ref.key[:], d.participants, d.reports
		}
		if _, err := tx.Exec(ctx, `INSERT INTO object_stats (kind, object, participants, reports, first_day, last_day)
SELECT kind, object, p, r, $5, $5 FROM unnest($1::text[], $2::bytea[], $3::int8[], $4::int8[]) AS t(kind, object, p, r)
ON CONFLICT (kind, object) DO UPDATE SET
    participants = object_stats.participants + excluded.participants,
    reports = object_stats.reports + excluded.reports,
    first_day = least(object_stats.first_day, excluded.first_day),
    last_day = greatest(object_stats.last_day, excluded.last_day)`, kinds, objects, parts, reports, a.dayUnix); err != nil {
			return err
		}
	}
	for _, kind := range sortedKeys(a.kinds) {
		if _, err := tx.Exec(ctx, `INSERT INTO daily_counts (day, kind, records) VALUES ($1, $2, $3)
ON CONFLICT (day, kind) DO UPDATE SET records = daily_counts.records + excluded.records`, a.day, kind, a.kinds[kind]); err != nil {
			return err
		}
	}
	for _, class := range sortedKeys(a.scan) {
		d := a.scan[class]
		if _, err := tx.Exec(ctx, `INSERT INTO scan_time_classes (size_class, records, total_ms) VALUES ($1, $2, $3)
ON CONFLICT (size_class) DO UPDATE SET records = scan_time_classes.records + excluded.records,
    total_ms = scan_time_classes.total_ms + excluded.total_ms`, class, d.records, d.totalMS); err != nil {
			return err
		}
		buckets := make([]int32, 0, len(d.buckets))
		counts := make([]int64, 0, len(d.buckets))
		for _, b := range sortedKeys(d.buckets) {
			buckets, counts = append(buckets, int32(b)), append(counts, d.buckets[b])
		}
		if _, err := tx.Exec(ctx, `INSERT INTO scan_time_buckets (size_class, bucket, records)
SELECT $1, b, n FROM unnest($2::int4[], $3::int8[]) AS t(b, n)
ON CONFLICT (size_class, bucket) DO UPDATE SET records = scan_time_buckets.records + excluded.records`, class, buckets, counts); err != nil {
			return err
		}
	}
	keys := make([]systemKey, 0, len(a.systems))
	for k := range a.systems {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y systemKey) int {
		return strings.Compare(strings.Join([]string{x.os, x.arch, x.osVersion, x.ksnVersion, x.cpus, x.memory}, "\x00"),
			strings.Join([]string{y.os, y.arch, y.osVersion, y.ksnVersion, y.cpus, y.memory}, "\x00"))
	})
	for _, k := range keys {
		if _, err := tx.Exec(ctx, `INSERT INTO system_counts (os, arch, os_version, ksn_version, cpus, memory, records)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (os, arch, os_version, ksn_version, cpus, memory) DO UPDATE SET records = system_counts.records + excluded.records`,
			k.os, k.arch, k.osVersion, k.ksnVersion, k.cpus, k.memory, a.systems[k]); err != nil {
			return err
		}
	}
	return pgWriteJudgements(ctx, tx, a)
}

// sortedKeys returns a map's keys in order: writes in one order cannot
// deadlock one another.
func sortedKeys[K interface{ ~string | ~int }, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
