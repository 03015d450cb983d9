package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CreateLicense makes a license with a new random key and returns the key:
// the only time it exists outside the client that activates it. expires nil
// means the license never expires.
func (s *Server) CreateLicense(ctx context.Context, label string, expires *time.Time) (string, License, error) {
	b := make([]byte, licenseKeyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", License{}, fmt.Errorf("create license: %w", err)
	}
	key := LicenseKeyPrefix + keyEncoding.EncodeToString(b)
	now := s.now().UTC().Truncate(time.Second)
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO licenses (key_sha256, label, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		hashKey(key), label, now.Unix(), optUnix(expires))
	if err != nil {
		return "", License{}, fmt.Errorf("create license: %w", explainWrite(err))
	}
	id, err := res.LastInsertId()
	if err != nil {
		return "", License{}, fmt.Errorf("create license: %w", err)
	}
	l := License{ID: id, Label: label, CreatedAt: now, ExpiresAt: optTime(optUnix(expires)), Seats: 1}
	return key, l, nil
}

const licenseColumns = `id, label, created_at, expires_at, revoked_at, seats`

func scanLicense(row interface{ Scan(...any) error }) (License, error) {
	var (
		l                License
		created          int64
		expires, revoked sql.NullInt64
	)
	if err := row.Scan(&l.ID, &l.Label, &created, &expires, &revoked, &l.Seats); err != nil {
		return License{}, err
	}
	l.CreatedAt = unixTime(created)
	l.ExpiresAt = nullTime(expires)
	l.RevokedAt = nullTime(revoked)
	return l, nil
}

// LicenseByKey finds the license of a key. An unknown key gives an error
// wrapping ErrNotFound; the caller decides what state the license is in
// (License.State).
func (s *Server) LicenseByKey(ctx context.Context, key string) (License, error) {
	l, err := scanLicense(s.byKey.QueryRowContext(ctx, hashKey(key)))
	if errors.Is(err, sql.ErrNoRows) {
		return License{}, fmt.Errorf("license: unknown key: %w", ErrNotFound)
	}
	if err != nil {
		return License{}, fmt.Errorf("license: %w", err)
	}
	return l, nil
}

// ListLicenses returns every license, oldest first.
func (s *Server) ListLicenses(ctx context.Context) ([]License, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+licenseColumns+` FROM licenses ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list licenses: %w", err)
	}
	defer rows.Close()
	var ls []License
	for rows.Next() {
		l, err := scanLicense(rows)
		if err != nil {
			return nil, fmt.Errorf("list licenses: %w", err)
		}
		ls = append(ls, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list licenses: %w", err)
	}
	return ls, nil
}

// licenseWhere turns what an operator typed — a key (it starts with
// LicenseKeyPrefix) or a decimal license id — into a WHERE clause.
func licenseWhere(keyOrID string) (string, any, error) {
	keyOrID = strings.TrimSpace(keyOrID)
	if strings.HasPrefix(keyOrID, LicenseKeyPrefix) {
		return "key_sha256 = ?", hashKey(keyOrID), nil
	}
	id, err := strconv.ParseInt(keyOrID, 10, 64)
	if err != nil || id <= 0 {
		return "", nil, fmt.Errorf("%q: %w (keys start with %s, ids are numbers)", keyOrID, ErrBadLicenseRef, LicenseKeyPrefix)
	}
	return "id = ?", id, nil
}

// updateLicense runs one UPDATE on the license keyOrID names and returns
// the license as it is afterwards.
func (s *Server) updateLicense(ctx context.Context, what, set, keyOrID string, args ...any) (License, error) {
	where, arg, err := licenseWhere(keyOrID)
	if err != nil {
		return License{}, fmt.Errorf("%s: %w", what, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return License{}, fmt.Errorf("%s: %w", what, explainWrite(err))
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE licenses SET `+set+` WHERE `+where, append(args, arg)...)
	if err != nil {
		return License{}, fmt.Errorf("%s: %w", what, explainWrite(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return License{}, fmt.Errorf("%s: %w", what, err)
	} else if n == 0 {
		return License{}, fmt.Errorf("%s: no license %s: %w", what, redactKey(keyOrID), ErrNotFound)
	}
	l, err := scanLicense(tx.QueryRowContext(ctx, `SELECT `+licenseColumns+` FROM licenses WHERE `+where, arg))
	if err != nil {
		return License{}, fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return License{}, fmt.Errorf("%s: %w", what, explainWrite(err))
	}
	return l, nil
}

// redactKey keeps a key out of error messages (they end up in terminals
// and logs); an id is shown as it is.
func redactKey(keyOrID string) string {
	if strings.HasPrefix(keyOrID, LicenseKeyPrefix) {
		return "with the given key"
	}
	return keyOrID
}

// RevokeLicense denylists a license, by key or id. It is final: the server
// answers its key with license-denylisted from then on, and ExtendLicense
// does not lift it. Revoking twice keeps the first time.
func (s *Server) RevokeLicense(ctx context.Context, keyOrID string) (License, error) {
	return s.updateLicense(ctx, "revoke license", `revoked_at = coalesce(revoked_at, ?)`, keyOrID, s.now().Unix())
}

// ExtendLicense sets when a license expires, by key or id; nil means never.
// It may also shorten a license, or expire it at once with a past time.
func (s *Server) ExtendLicense(ctx context.Context, keyOrID string, expires *time.Time) (License, error) {
	return s.updateLicense(ctx, "set license expiry", `expires_at = ?`, keyOrID, optUnix(expires))
}

// SetLicenseSeats sets how many participant codes of a license, by key or
// id, count toward prevalence per half-year (1 to MaxSeats). Codes already
// counted in the current half-year stay counted when it is lowered.
func (s *Server) SetLicenseSeats(ctx context.Context, keyOrID string, seats int) (License, error) {
	if seats < 1 || seats > MaxSeats {
		return License{}, fmt.Errorf("set license seats: %d is not between 1 and %d", seats, MaxSeats)
	}
	return s.updateLicense(ctx, "set license seats", `seats = ?`, keyOrID, seats)
}

func optUnix(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.Unix()
}

func optTime(v any) *time.Time {
	sec, ok := v.(int64)
	if !ok {
		return nil
	}
	t := time.Unix(sec, 0).UTC()
	return &t
}

func nullTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.Unix(v.Int64, 0).UTC()
	return &t
}
