package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/halfyear"
)

// Purge destroys every half-year that ended at least o.Grace before
// o.Now: its sealed records, participant and seat rows and the per-object
// aggregates below o.MinParticipants go in one transaction, with SQLite's
// secure_delete on (freed content is overwritten with zeros), then its
// data key is destroyed (DataKeys.Destroy). The WAL is then checkpointed
// and truncated so that no copy of a destroyed page remains in it; when a
// reader keeps that from completing, Checkpointed is false, and every
// later Purge tries again until it completes. Other aggregates are not
// touched. It needs no KEK.
func (s *Server) Purge(ctx context.Context, o PurgeOptions) (PurgeResult, error) {
	var res PurgeResult
	keys, err := s.keysFor(ctx)
	if err != nil {
		return res, fmt.Errorf("purge: %w", err)
	}
	labels, err := s.heldHalfYears(ctx, keys)
	if err != nil {
		return res, fmt.Errorf("purge: %w", err)
	}
	conn, restore, err := s.secureConn(ctx)
	if err != nil {
		return res, fmt.Errorf("purge: %w", err)
	}
	defer conn.Close()
	defer restore()
	for _, l := range labels {
		if o.Now.Before(l.End().Add(o.Grace)) {
			continue
		}
		p, err := s.purgeHalfYear(ctx, conn, l, o)
		if err != nil {
			return res, fmt.Errorf("purge %s: %w", l, err)
		}
		// The key last: once the rows are gone, a crash here leaves a key
		// that the next purge destroys (the half-year is still held).
		if err := keys.Destroy(l.String()); err != nil {
			return res, fmt.Errorf("purge %s: destroy its data key: %w", l, err)
		}
		res.Purged = append(res.Purged, p)
	}
	if res.Checkpointed, err = s.checkpointPending(ctx, conn); err != nil {
		return res, fmt.Errorf("purge: checkpoint: %w", err)
	}
	return res, nil
}

// heldHalfYears lists the half-years the database holds rows of or keys
// holds a key of, oldest first.
func (s *Server) heldHalfYears(ctx context.Context, keys DataKeys) ([]halfyear.Label, error) {
	held := map[string]bool{}
	err := eachRow(ctx, s.db, `SELECT half_year FROM submission_keys
UNION SELECT DISTINCT half_year FROM sealed_submissions
UNION SELECT DISTINCT half_year FROM submission_participants
UNION SELECT DISTINCT half_year FROM license_seats
UNION SELECT DISTINCT half_year FROM seated_codes`, nil, func(r *sql.Rows) error {
		var s string
		err := r.Scan(&s)
		held[s] = true
		return err
	})
	if err != nil {
		return nil, err
	}
	withKeys, err := keys.Labels()
	if err != nil {
		return nil, err
	}
	for _, l := range withKeys {
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

func (s *Server) purgeHalfYear(ctx context.Context, conn *sql.Conn, l halfyear.Label, o PurgeOptions) (PurgedHalfYear, error) {
	label := l.String()
	p := PurgedHalfYear{HalfYear: label, PurgedAt: o.Now.UTC().Truncate(time.Second)}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return p, explainWrite(err)
	}
	defer tx.Rollback()
	// A key an earlier version kept in the database goes too.
	if _, err := tx.ExecContext(ctx, `DELETE FROM submission_keys WHERE half_year = ?`, label); err != nil {
		return p, explainWrite(err)
	}
	r, err := tx.ExecContext(ctx, `DELETE FROM sealed_submissions WHERE half_year = ?`, label)
	if err != nil {
		return p, explainWrite(err)
	}
	if p.Records, err = r.RowsAffected(); err != nil {
		return p, err
	}
	if r, err = tx.ExecContext(ctx, `DELETE FROM submission_participants WHERE half_year = ?`, label); err != nil {
		return p, explainWrite(err)
	}
	if p.ParticipantRows, err = r.RowsAffected(); err != nil {
		return p, err
	}
	for _, table := range []string{"license_seats", "seated_codes"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE half_year = ?`, label); err != nil {
			return p, explainWrite(err)
		}
	}
	// Objects last received before the half-year ended (last_day is a
	// UTC day, half-years begin at 00:00 UTC) and seen by too few
	// participants: no later half-year, still held, counts them.
	if r, err = tx.ExecContext(ctx, `DELETE FROM object_stats WHERE participants < ? AND last_day < ?`,
		o.MinParticipants, l.End().Unix()); err != nil {
		return p, explainWrite(err)
	}
	if p.ObjectRows, err = r.RowsAffected(); err != nil {
		return p, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO purged_half_years (half_year, purged_at, records, participant_rows) VALUES (?, ?, ?, ?)
ON CONFLICT (half_year) DO UPDATE SET purged_at = excluded.purged_at,
    records = records + excluded.records, participant_rows = participant_rows + excluded.participant_rows`,
		label, p.PurgedAt.Unix(), p.Records, p.ParticipantRows); err != nil {
		return p, explainWrite(err)
	}
	if err := markCheckpointPending(ctx, tx); err != nil {
		return p, err
	}
	if err := tx.Commit(); err != nil {
		return p, explainWrite(err)
	}
	s.sealing.mu.Lock()
	if s.sealing.cur != nil && s.sealing.cur.label == label {
		s.sealing.cur = nil
	}
	s.sealing.mu.Unlock()
	return p, nil
}

// checkpointTruncate copies the WAL into the database file and truncates
// it to zero bytes, waiting a little for readers (checkpointWait a try,
// rather than the connection's busy timeout), and trying a few times while
// one keeps it from completing: a purge beside a busy server should
// neither hang nor give up at the first reader.
func checkpointTruncate(ctx context.Context, conn *sql.Conn) (bool, error) {
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, checkpointWait.Milliseconds())); err != nil {
		return false, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA busy_timeout = %d`, busyTimeout.Milliseconds()))
	for attempt := 1; ; attempt++ {
		var busy, logFrames, done int
		if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
			return false, err
		}
		if busy == 0 {
			return true, nil
		}
		if attempt == checkpointTries {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// How long checkpointTruncate waits for readers: checkpointTries tries of
// up to checkpointWait each.
const (
	checkpointWait  = 500 * time.Millisecond
	checkpointTries = 5
)

// SealedCounts counts the sealed records per half-year that has records
// or a data key, oldest first. It needs no KEK.
func (s *Server) SealedCounts(ctx context.Context) ([]SealedHalfYear, error) {
	keys, err := s.keysFor(ctx)
	if err != nil {
		return nil, fmt.Errorf("sealed counts: %w", err)
	}
	withKeys, err := keys.Labels()
	if err != nil {
		return nil, fmt.Errorf("sealed counts: %w", err)
	}
	counts := map[string]*SealedHalfYear{}
	for _, l := range withKeys {
		counts[l] = &SealedHalfYear{HalfYear: l, HasKey: true}
	}
	if err := eachRow(ctx, s.db, `SELECT half_year, count(*) FROM sealed_submissions GROUP BY half_year`, nil, func(r *sql.Rows) error {
		var h SealedHalfYear
		if err := r.Scan(&h.HalfYear, &h.Records); err != nil {
			return err
		}
		h.HasKey = counts[h.HalfYear] != nil
		counts[h.HalfYear] = &h
		return nil
	}); err != nil {
		return nil, fmt.Errorf("sealed counts: %w", err)
	}
	out := make([]SealedHalfYear, 0, len(counts))
	for _, h := range counts {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b SealedHalfYear) int { return strings.Compare(a.HalfYear, b.HalfYear) })
	return out, nil
}

// PurgedHalfYears lists the half-years destroyed so far, oldest first.
func (s *Server) PurgedHalfYears(ctx context.Context) ([]PurgedHalfYear, error) {
	var out []PurgedHalfYear
	err := eachRow(ctx, s.db, `SELECT half_year, purged_at, records, participant_rows FROM purged_half_years ORDER BY half_year`, nil, func(r *sql.Rows) error {
		var p PurgedHalfYear
		var at int64
		err := r.Scan(&p.HalfYear, &at, &p.Records, &p.ParticipantRows)
		p.PurgedAt = unixTime(at)
		out = append(out, p)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("purged half-years: %w", err)
	}
	return out, nil
}
