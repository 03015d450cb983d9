package store

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/halfyear"
	"github.com/ksnproject/ksn/pkg/seal"
)

// UnlockSubmissions is Server.UnlockSubmissions: the first KEK given is
// bound to the database, for every replica.
func (s *PostgresServer) UnlockSubmissions(ctx context.Context, kek seal.Key) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO server_settings (name, value) VALUES ($1, $2)
ON CONFLICT (name) DO NOTHING`, settingKEKCheck, seal.CheckValue(kek)); err != nil {
		return fmt.Errorf("bind key-encryption key: %w", err)
	}
	return s.UseKEK(ctx, kek)
}

// UseKEK is Server.UseKEK.
func (s *PostgresServer) UseKEK(ctx context.Context, kek seal.Key) error {
	stored, ok, err := s.setting(ctx, settingKEKCheck)
	if err != nil {
		return fmt.Errorf("read key-encryption key check: %w", err)
	}
	if got := seal.CheckValue(kek); ok && !hmac.Equal([]byte(stored), []byte(got)) {
		return &KEKMismatchError{Want: seal.Fingerprint(stored), Got: seal.Fingerprint(got)}
	}
	s.sealing.mu.Lock()
	s.sealing.kek = &kek
	s.sealing.cur = nil
	s.sealing.mu.Unlock()
	return nil
}

// KEKBound is Server.KEKBound.
func (s *PostgresServer) KEKBound(ctx context.Context) (string, bool, error) {
	v, ok, err := s.setting(ctx, settingKEKCheck)
	if err != nil || !ok {
		return "", false, err
	}
	return seal.Fingerprint(v), true, nil
}

// Purge is Server.Purge. It holds an advisory lock from before it reads
// what is due until the keys are destroyed, on one connection: when
// replicas purge at the same moment, one destroys the due half-years and
// the others, waiting on the lock, find nothing left. The rows of every
// due half-year go in one transaction, then their key files; a key whose
// destruction failed is destroyed by the next purge (its half-year is
// still held). Instead of SQLite's checkpoint it vacuums (vacuumOwed).
func (s *PostgresServer) Purge(ctx context.Context, o PurgeOptions) (PurgeResult, error) {
	res, err := s.purgeLocked(ctx, o)
	if err != nil {
		return res, fmt.Errorf("purge: %w", err)
	}
	// After the lock and its connection are released: vacuumOwed waits
	// for older snapshots, a replica waiting on the lock among them.
	if res.Checkpointed, err = s.vacuumOwed(ctx); err != nil {
		return res, fmt.Errorf("purge: vacuum: %w", err)
	}
	return res, nil
}

// purgeLocked destroys what is due under the purge's advisory lock.
func (s *PostgresServer) purgeLocked(ctx context.Context, o PurgeOptions) (PurgeResult, error) {
	var res PurgeResult
	keys, err := s.keysFor()
	if err != nil {
		return res, err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, pgLockPurge); err != nil {
		return res, err
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, pgLockPurge); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx)) // a closed session holds no lock
		}
	}()
	labels, err := pgHeldHalfYears(ctx, conn, keys)
	if err != nil {
		return res, err
	}
	var due []halfyear.Label
	for _, l := range labels {
		if !o.Now.Before(l.End().Add(o.Grace)) {
			due = append(due, l)
		}
	}
	if len(due) == 0 {
		return res, nil
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		res.Purged = nil
		for _, l := range due {
			p, err := pgPurgeHalfYear(ctx, tx, l, o)
			if err != nil {
				return fmt.Errorf("%s: %w", l, err)
			}
			res.Purged = append(res.Purged, p)
		}
		return markVacuumOwed(ctx, tx)
	})
	if err != nil {
		return res, err
	}
	for _, p := range res.Purged {
		if err := keys.Destroy(p.HalfYear); err != nil {
			return res, fmt.Errorf("%s: destroy its data key: %w", p.HalfYear, err)
		}
	}
	s.sealing.mu.Lock()
	for _, p := range res.Purged {
		if s.sealing.cur != nil && s.sealing.cur.label == p.HalfYear {
			s.sealing.cur = nil
		}
	}
	s.sealing.mu.Unlock()
	return res, nil
}

// pgHeldHalfYears lists the half-years the database holds rows of or
// keys holds a key of, oldest first.
func pgHeldHalfYears(ctx context.Context, conn *pgxpool.Conn, keys DataKeys) ([]halfyear.Label, error) {
	rows, _ := conn.Query(ctx, `SELECT half_year FROM submission_keys
UNION SELECT half_year FROM sealed_submissions
UNION SELECT half_year FROM submission_participants
UNION SELECT half_year FROM license_seats
UNION SELECT half_year FROM seated_codes
UNION SELECT half_year FROM data_key_hashes`)
	inDB, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	withKeys, err := keys.Labels()
	if err != nil {
		return nil, err
	}
	held := map[string]bool{}
	for _, l := range append(inDB, withKeys...) {
		held[l] = true
	}
	out := make([]halfyear.Label, 0, len(held))
	for s := range held {
		l, err := halfyear.Parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b halfyear.Label) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

func pgPurgeHalfYear(ctx context.Context, tx pgx.Tx, l halfyear.Label, o PurgeOptions) (PurgedHalfYear, error) {
	label := l.String()
	p := PurgedHalfYear{HalfYear: label, PurgedAt: o.Now.UTC().Truncate(time.Second)}
	count := func(q string, into *int64) error {
		tag, err := tx.Exec(ctx, q, label)
		if into != nil {
			*into = tag.RowsAffected()
		}
		return err
	}
	for _, q := range []struct {
		sql  string
		into *int64
	}{
		{`DELETE FROM submission_keys WHERE half_year = $1`, nil}, // one an earlier version kept here
		{`DELETE FROM sealed_submissions WHERE half_year = $1`, &p.Records},
		{`DELETE FROM submission_participants WHERE half_year = $1`, &p.ParticipantRows},
		{`DELETE FROM license_seats WHERE half_year = $1`, nil},
		{`DELETE FROM seated_codes WHERE half_year = $1`, nil},
		{`DELETE FROM data_key_hashes WHERE half_year = $1`, nil},
	} {
		if err := count(q.sql, q.into); err != nil {
			return p, err
		}
	}
	// Objects last received before the half-year ended and seen by too
	// few participants: no later half-year, still held, counts them.
	tag, err := tx.Exec(ctx, `DELETE FROM object_stats WHERE participants < $1 AND last_day < $2`, o.MinParticipants, l.End().Unix())
	if err != nil {
		return p, err
	}
	p.ObjectRows = tag.RowsAffected()
	_, err = tx.Exec(ctx, `INSERT INTO purged_half_years (half_year, purged_at, records, participant_rows) VALUES ($1, $2, $3, $4)
ON CONFLICT (half_year) DO UPDATE SET purged_at = excluded.purged_at,
    records = purged_half_years.records + excluded.records,
    participant_rows = purged_half_years.participant_rows + excluded.participant_rows`,
		label, p.PurgedAt.Unix(), p.Records, p.ParticipantRows)
	return p, err
}

// SealedCounts is Server.SealedCounts.
func (s *PostgresServer) SealedCounts(ctx context.Context) ([]SealedHalfYear, error) {
	fail := func(err error) ([]SealedHalfYear, error) { return nil, fmt.Errorf("sealed counts: %w", err) }
	keys, err := s.keysFor()
	if err != nil {
		return fail(err)
	}
	withKeys, err := keys.Labels()
	if err != nil {
		return fail(err)
	}
	counts := map[string]*SealedHalfYear{}
	for _, l := range withKeys {
		counts[l] = &SealedHalfYear{HalfYear: l, HasKey: true}
	}
	rows, _ := s.pool.Query(ctx, `SELECT half_year, count(*) FROM sealed_submissions GROUP BY half_year`)
	var h SealedHalfYear
	if _, err := pgx.ForEachRow(rows, []any{&h.HalfYear, &h.Records}, func() error {
		c := h
		c.HasKey = counts[h.HalfYear] != nil
		counts[h.HalfYear] = &c
		return nil
	}); err != nil {
		return fail(err)
	}
	out := make([]SealedHalfYear, 0, len(counts))
	for _, h := range counts {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b SealedHalfYear) int { return strings.Compare(a.HalfYear, b.HalfYear) })
	return out, nil
}

// PurgedHalfYears is Server.PurgedHalfYears.
func (s *PostgresServer) PurgedHalfYears(ctx context.Context) ([]PurgedHalfYear, error) {
	rows, err := s.pool.Query(ctx, `SELECT half_year, purged_at, records, participant_rows FROM purged_half_years ORDER BY half_year`)
	if err != nil {
		return nil, fmt.Errorf("purged half-years: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PurgedHalfYear, error) {
		var p PurgedHalfYear
		var at int64
		err := r.Scan(&p.HalfYear, &at, &p.Records, &p.ParticipantRows)
		p.PurgedAt = unixTime(at)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("purged half-years: %w", err)
	}
	return out, nil
}

// ReadSubmissions is Server.ReadSubmissions.
func (s *PostgresServer) ReadSubmissions(ctx context.Context, fn func(halfYear string, rec api.Record) error) error {
	return s.eachSealed(ctx, func(label string, id, pt []byte, err error) error {
		if err != nil {
			return err
		}
		var rec api.Record
		if err := json.Unmarshal(pt, &rec); err != nil {
			return fmt.Errorf("record %x of %s: %w", id, label, err)
		}
		return fn(label, rec)
	})
}

// VerifySealed is Server.VerifySealed.
func (s *PostgresServer) VerifySealed(ctx context.Context) ([]SealedHalfYear, error) {
	counts, err := s.SealedCounts(ctx)
	if err != nil {
		return nil, err
	}
	idx := map[string]int{}
	for i, c := range counts {
		idx[c.HalfYear] = i
	}
	err = s.eachSealed(ctx, func(label string, _, _ []byte, err error) error {
		if i, ok := idx[label]; ok && err == nil {
			counts[i].Opened++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify sealed records: %w", err)
	}
	return counts, nil
}

// eachSealed opens every sealed record in one snapshot (a repeatable-read
// transaction) and calls fn with the plaintext, or with the error that
// kept it from opening.
func (s *PostgresServer) eachSealed(ctx context.Context, fn func(label string, id, plaintext []byte, err error) error) error {
	s.sealing.mu.Lock()
	kek := s.sealing.kek
	s.sealing.mu.Unlock()
	if kek == nil {
		return ErrNoKEK
	}
	keys, err := s.keysFor()
	if err != nil {
		return err
	}
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, half_year, sealed FROM sealed_submissions ORDER BY half_year, id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		sealers := map[string]*seal.Sealer{}
		var aad []byte
		for rows.Next() {
			var id, sealed []byte
			var label string
			if err := rows.Scan(&id, &label, &sealed); err != nil {
				return err
			}
			sl, ok := sealers[label]
			if !ok {
				wrapped, err := keys.Load(label)
				if errors.Is(err, fs.ErrNotExist) {
					if err := fn(label, id, nil, fmt.Errorf("record %x of %s: its data key is destroyed: %w", id, label, seal.ErrOpen)); err != nil {
						return err
					}
					continue
				}
				if err != nil {
					return err
				}
				k, err := seal.Unwrap(*kek, label, wrapped)
				if err != nil {
					return err // the KEK does not match: nothing will open
				}
				sl = seal.NewSealer(k)
				sealers[label] = sl
			}
			aad = append(append(aad[:0], id...), label...)
			pt, err := sl.Open(aad, sealed)
			if err != nil {
				err = fmt.Errorf("record %x of %s: %w", id, label, err)
			}
			if err := fn(label, id, pt, err); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}
