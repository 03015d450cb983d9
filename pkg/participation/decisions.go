package participation

import (
	"strconv"

	"github.com/ksnproject/ksn/pkg/untrusted"

	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

const decisionColumns = `seq, at, accepted, level, statement_id, statement_sha256, via, version, endpoint`

// Record appends decision d to the history and returns it with Seq set (and
// At set to now when zero, in UTC, truncated to the second). The history is
// append-only: the table refuses UPDATE and DELETE, so no later ksn, and no
// bug in one, can rewrite what the user agreed to.
//
// An acceptance needs a valid Level, a StatementID and a 64-hex-digit
// StatementSHA256; every decision needs a valid Via.
func (s *Store) Record(ctx context.Context, d Decision) (Decision, error) {
	if err := d.validate(); err != nil {
		return Decision{}, fmt.Errorf("record decision: %w", err)
	}
	if d.At.IsZero() {
		d.At = s.now()
	}
	d.At = d.At.UTC().Truncate(time.Second)
	res, err := s.db.ExecContext(ctx, `INSERT INTO decisions
		(at, accepted, level, statement_id, statement_sha256, via, version, endpoint)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		d.At.Unix(), d.Accepted, string(d.Level), d.StatementID, d.StatementSHA256, string(d.Via), d.Version, d.Endpoint)
	if err != nil {
		return Decision{}, fmt.Errorf("record decision: %w", err)
	}
	if d.Seq, err = res.LastInsertId(); err != nil {
		return Decision{}, fmt.Errorf("record decision: %w", err)
	}
	return d, nil
}

func (d Decision) validate() error {
	if !d.Via.valid() {
		return fmt.Errorf("via %q: want %q or %q", d.Via, ViaTerminal, ViaFlag)
	}
	if d.Level != "" && !d.Level.valid() {
		return fmt.Errorf("level %q: want %q or %q", d.Level, Basic, Extended)
	}
	// An opt-out records the statement in force, which may be unknown
	// (empty); anything stored is printed later, so it must be plain.
	if d.StatementID != "" && !untrusted.ValidID(d.StatementID) {
		return fmt.Errorf("statement id %s is not a plain identifier", untrusted.Text(strconv.Quote(d.StatementID), untrusted.NameLen))
	}
	if !d.Accepted {
		return nil
	}
	if d.Level == "" {
		return errors.New("an acceptance needs a level")
	}
	if d.StatementID == "" {
		return errors.New("an acceptance needs the statement's id")
	}
	if !isLowerHex(d.StatementSHA256, 64) {
		return fmt.Errorf("statement SHA-256 %q: want 64 lower-case hex digits", d.StatementSHA256)
	}
	return nil
}

// Latest returns the most recent decision, or nil (and no error) when the
// user never decided.
func (s *Store) Latest(ctx context.Context) (*Decision, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+decisionColumns+` FROM decisions ORDER BY seq DESC LIMIT 1`)
	d, err := scanDecision(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read latest decision: %w", err)
	}
	return &d, nil
}

// Decisions returns every decision, oldest first.
func (s *Store) Decisions(ctx context.Context) ([]Decision, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+decisionColumns+` FROM decisions ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	defer rows.Close()
	var ds []Decision
	for rows.Next() {
		d, err := scanDecision(rows)
		if err != nil {
			return nil, fmt.Errorf("read decisions: %w", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	return ds, nil
}

func scanDecision(row interface{ Scan(...any) error }) (Decision, error) {
	var (
		d          Decision
		at         int64
		level, via string
		endpoint   sql.NullString
	)
	if err := row.Scan(&d.Seq, &at, &d.Accepted, &level, &d.StatementID, &d.StatementSHA256, &via, &d.Version, &endpoint); err != nil {
		return Decision{}, err
	}
	if endpoint.Valid {
		d.Endpoint = &endpoint.String
	}
	d.At, d.Level, d.Via = fromUnix(at), Level(level), Via(via)
	return d, nil
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
