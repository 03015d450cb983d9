package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ksnproject/ksn/pkg/halfyear"
)

// Purge destroys every half-year that ended at least grace before now: its
// wrapped data key, its sealed records and its participant rows, with
// SQLite's secure_delete on (freed content is overwritten with zeros), and
// then checkpoints and truncates the WAL so that no copy of a destroyed
// page remains in it. Aggregates are not touched. It needs no KEK.
func (s *Server) Purge(ctx context.Context, now time.Time, grace time.Duration) (PurgeResult, error) {
	var res PurgeResult
	labels, err := s.heldHalfYears(ctx)
	if err != nil {
		return res, fmt.Errorf("purge: %w", err)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("purge: %w", err)
	}
	defer conn.Close()
	var was int
	if err := conn.QueryRowContext(ctx, `PRAGMA secure_delete`).Scan(&was); err != nil {
		return res, fmt.Errorf("purge: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return res, fmt.Errorf("purge: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA secure_delete = %d`, was))
	for _, l := range labels {
		if now.Before(l.End().Add(grace)) {
			continue
		}
		p, err := s.purgeHalfYear(ctx, conn, l.String(), now)
		if err != nil {
			return res, fmt.Errorf("purge %s: %w", l, err)
		}
		res.Purged = append(res.Purged, p)
	}
	res.Checkpointed = true
	if len(res.Purged) > 0 {
		if res.Checkpointed, err = checkpointTruncate(ctx, conn); err != nil {
			return res, fmt.Errorf("purge: checkpoint: %w", err)
		}
	}
	return res, nil
}

// heldHalfYears lists the half-years the database holds a key or rows of,
// oldest first.
func (s *Server) heldHalfYears(ctx context.Context) ([]halfyear.Label, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT half_year FROM submission_keys
UNION SELECT DISTINCT half_year FROM sealed_submissions
UNION SELECT DISTINCT half_year FROM submission_participants
UNION SELECT DISTINCT half_year FROM license_seats
UNION SELECT DISTINCT half_year FROM seated_codes
ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []halfyear.Label
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		l, err := halfyear.Parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func (s *Server) purgeHalfYear(ctx context.Context, conn *sql.Conn, label string, now time.Time) (PurgedHalfYear, error) {
	p := PurgedHalfYear{HalfYear: label, PurgedAt: now.UTC().Truncate(time.Second)}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return p, explainWrite(err)
	}
	defer tx.Rollback()
	// The key first: from this statement on, the rows are unreadable.
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
	if _, err := tx.ExecContext(ctx, `INSERT INTO purged_half_years (half_year, purged_at, records, participant_rows) VALUES (?, ?, ?, ?)
ON CONFLICT (half_year) DO UPDATE SET purged_at = excluded.purged_at,
    records = records + excluded.records, participant_rows = participant_rows + excluded.participant_rows`,
		label, p.PurgedAt.Unix(), p.Records, p.ParticipantRows); err != nil {
		return p, explainWrite(err)
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
// it to zero bytes, waiting (busy_timeout) for readers, and retrying a few
// times while one keeps it from completing.
func checkpointTruncate(ctx context.Context, conn *sql.Conn) (bool, error) {
	for attempt := 0; ; attempt++ {
		var busy, logFrames, done int
		if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
			return false, err
		}
		if busy == 0 {
			return true, nil
		}
		if attempt == 4 {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// SealedCounts counts the sealed records per half-year, oldest first. It
// needs no KEK.
func (s *Server) SealedCounts(ctx context.Context) ([]SealedHalfYear, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT h.half_year,
    (SELECT count(*) FROM sealed_submissions s WHERE s.half_year = h.half_year),
    EXISTS (SELECT 1 FROM submission_keys k WHERE k.half_year = h.half_year)
FROM (SELECT half_year FROM submission_keys UNION SELECT DISTINCT half_year FROM sealed_submissions) h
ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("sealed counts: %w", err)
	}
	defer rows.Close()
	var out []SealedHalfYear
	for rows.Next() {
		var h SealedHalfYear
		if err := rows.Scan(&h.HalfYear, &h.Records, &h.HasKey); err != nil {
			return nil, fmt.Errorf("sealed counts: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
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
