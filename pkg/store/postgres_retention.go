package store

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
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

// Purge is Server.Purge. It runs under an advisory lock, in one
// transaction: when replicas purge at the same moment, one destroys the
// due half-years and the others, waiting on the lock, find nothing left.
//
// PostgreSQL does not overwrite what it deletes: a destroyed key's bytes
// stay in dead row versions until VACUUM reuses their space, and in the
// write-ahead log and its archives until they are recycled. Purge vacuums
// the tables it deleted from; what the log and backups hold goes with
// them (see the README on backups).
func (s *PostgresServer) Purge(ctx context.Context, o PurgeOptions) (PurgeResult, error) {
	res := PurgeResult{Checkpointed: true}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		res.Purged = nil
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgLockPurge); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT half_year FROM submission_keys
UNION SELECT half_year FROM sealed_submissions
UNION SELECT half_year FROM submission_participants ORDER BY 1`)
		if err != nil {
			return err
		}
		labels, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, s := range labels {
			l, err := halfyear.Parse(s)
			if err != nil {
				return err
			}
			if o.Now.Before(l.End().Add(o.Grace)) {
				continue
			}
			p, err := pgPurgeHalfYear(ctx, tx, s, o.Now)
			if err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
			res.Purged = append(res.Purged, p)
		}
		return nil
	})
	if err != nil {
		return PurgeResult{}, fmt.Errorf("purge: %w", err)
	}
	s.sealing.mu.Lock()
	for _, p := range res.Purged {
		if s.sealing.cur != nil && s.sealing.cur.label == p.HalfYear {
			s.sealing.cur = nil
		}
	}
	s.sealing.mu.Unlock()
	if len(res.Purged) > 0 {
		// Outside the transaction (VACUUM cannot run in one); a failure
		// leaves the space to autovacuum, and the purge stands.
		_, err := s.pool.Exec(ctx, `VACUUM submission_keys, sealed_submissions, submission_participants`)
		res.Checkpointed = err == nil
	}
	return res, nil
}

func pgPurgeHalfYear(ctx context.Context, tx pgx.Tx, label string, now time.Time) (PurgedHalfYear, error) {
	p := PurgedHalfYear{HalfYear: label, PurgedAt: now.UTC().Truncate(time.Second)}
	// The key first: from this statement on, the rows are unreadable.
	if _, err := tx.Exec(ctx, `DELETE FROM submission_keys WHERE half_year = $1`, label); err != nil {
		return p, err
	}
	tag, err := tx.Exec(ctx, `DELETE FROM sealed_submissions WHERE half_year = $1`, label)
	if err != nil {
		return p, err
	}
	p.Records = tag.RowsAffected()
	if tag, err = tx.Exec(ctx, `DELETE FROM submission_participants WHERE half_year = $1`, label); err != nil {
		return p, err
	}
	p.ParticipantRows = tag.RowsAffected()
	_, err = tx.Exec(ctx, `INSERT INTO purged_half_years (half_year, purged_at, records, participant_rows) VALUES ($1, $2, $3, $4)
ON CONFLICT (half_year) DO UPDATE SET purged_at = excluded.purged_at,
    records = purged_half_years.records + excluded.records,
    participant_rows = purged_half_years.participant_rows + excluded.participant_rows`,
		label, p.PurgedAt.Unix(), p.Records, p.ParticipantRows)
	return p, err
}

// SealedCounts is Server.SealedCounts.
func (s *PostgresServer) SealedCounts(ctx context.Context) ([]SealedHalfYear, error) {
	rows, err := s.pool.Query(ctx, `SELECT h.half_year,
    (SELECT count(*) FROM sealed_submissions s WHERE s.half_year = h.half_year),
    EXISTS (SELECT 1 FROM submission_keys k WHERE k.half_year = h.half_year)
FROM (SELECT half_year FROM submission_keys UNION SELECT half_year FROM sealed_submissions) h
ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("sealed counts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SealedHalfYear, error) {
		var h SealedHalfYear
		err := r.Scan(&h.HalfYear, &h.Records, &h.HasKey)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("sealed counts: %w", err)
	}
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
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT s.id, s.half_year, s.sealed, k.wrapped FROM sealed_submissions s
LEFT JOIN submission_keys k ON k.half_year = s.half_year ORDER BY s.half_year, s.id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		sealers := map[string]*seal.Sealer{}
		var aad []byte
		for rows.Next() {
			var id, sealed, wrapped []byte
			var label string
			if err := rows.Scan(&id, &label, &sealed, &wrapped); err != nil {
				return err
			}
			sl, ok := sealers[label]
			if !ok {
				if wrapped == nil {
					if err := fn(label, id, nil, fmt.Errorf("record %x of %s: its data key is destroyed: %w", id, label, seal.ErrOpen)); err != nil {
						return err
					}
					continue
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
