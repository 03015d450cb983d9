package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// CreateLicense is Server.CreateLicense.
func (s *PostgresServer) CreateLicense(ctx context.Context, label string, expires *time.Time) (string, License, error) {
	b := make([]byte, licenseKeyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", License{}, fmt.Errorf("create license: %w", err)
	}
	key := LicenseKeyPrefix + keyEncoding.EncodeToString(b)
	now := s.now().UTC().Truncate(time.Second)
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO licenses (key_sha256, label, created_at, expires_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		hashKey(key), label, now.Unix(), optUnix(expires)).Scan(&id)
	if err != nil {
		return "", License{}, fmt.Errorf("create license: %w", err)
	}
	return key, License{ID: id, Label: label, CreatedAt: now, ExpiresAt: optTime(optUnix(expires)), Seats: 1}, nil
}

// pgScanLicense reads licenseColumns.
func pgScanLicense(row pgx.Row) (License, error) {
	var (
		l                License
		created          int64
		expires, revoked *int64
	)
	if err := row.Scan(&l.ID, &l.Label, &created, &expires, &revoked, &l.Seats); err != nil {
		return License{}, err
	}
	l.CreatedAt = unixTime(created)
	if expires != nil {
		l.ExpiresAt = optTime(*expires)
	}
	if revoked != nil {
		l.RevokedAt = optTime(*revoked)
	}
	return l, nil
}

// LicenseByKey is Server.LicenseByKey.
func (s *PostgresServer) LicenseByKey(ctx context.Context, key string) (License, error) {
	l, err := pgScanLicense(s.pool.QueryRow(ctx, `SELECT `+licenseColumns+` FROM licenses WHERE key_sha256 = $1`, hashKey(key)))
	if errors.Is(err, pgx.ErrNoRows) {
		return License{}, fmt.Errorf("license: unknown key: %w", ErrNotFound)
	}
	if err != nil {
		return License{}, fmt.Errorf("license: %w", err)
	}
	return l, nil
}

// ListLicenses is Server.ListLicenses.
func (s *PostgresServer) ListLicenses(ctx context.Context) ([]License, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+licenseColumns+` FROM licenses ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list licenses: %w", err)
	}
	ls, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (License, error) { return pgScanLicense(r) })
	if err != nil {
		return nil, fmt.Errorf("list licenses: %w", err)
	}
	return ls, nil
}

// updateLicense runs one UPDATE (set, with $1 its value) on the license
// keyOrID names and returns the license as it is afterwards.
func (s *PostgresServer) updateLicense(ctx context.Context, what, set, keyOrID string, value any) (License, error) {
	where, arg, err := licenseWhere(keyOrID)
	if err != nil {
		return License{}, fmt.Errorf("%s: %w", what, err)
	}
	where = strings.Replace(where, "?", "$2", 1)
	l, err := pgScanLicense(s.pool.QueryRow(ctx, `UPDATE licenses SET `+set+` WHERE `+where+` RETURNING `+licenseColumns, value, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return License{}, fmt.Errorf("%s: no license %s: %w", what, redactKey(keyOrID), ErrNotFound)
	}
	if err != nil {
		return License{}, fmt.Errorf("%s: %w", what, err)
	}
	return l, nil
}

// RevokeLicense is Server.RevokeLicense.
func (s *PostgresServer) RevokeLicense(ctx context.Context, keyOrID string) (License, error) {
	return s.updateLicense(ctx, "revoke license", `revoked_at = coalesce(revoked_at, $1)`, keyOrID, s.now().Unix())
}

// ExtendLicense is Server.ExtendLicense.
func (s *PostgresServer) ExtendLicense(ctx context.Context, keyOrID string, expires *time.Time) (License, error) {
	return s.updateLicense(ctx, "set license expiry", `expires_at = $1::bigint`, keyOrID, optUnix(expires))
}

// SetLicenseSeats is Server.SetLicenseSeats.
func (s *PostgresServer) SetLicenseSeats(ctx context.Context, keyOrID string, seats int) (License, error) {
	if seats < 1 || seats > MaxSeats {
		return License{}, fmt.Errorf("set license seats: %d is not between 1 and %d", seats, MaxSeats)
	}
	return s.updateLicense(ctx, "set license seats", `seats = $1::integer`, keyOrID, seats)
}

// SetOverride is Server.SetOverride.
func (s *PostgresServer) SetOverride(ctx context.Context, ind reputation.FileIndicator) error {
	if err := validIndicator(ind); err != nil {
		return fmt.Errorf("set override: %w", err)
	}
	var firstSeen *int64
	if !ind.FirstSeen.IsZero() {
		fs := ind.FirstSeen.Unix()
		firstSeen = &fs
	}
	size := max(ind.Size, -1)
	now := s.now().Unix()
	_, err := s.pool.Exec(ctx, `INSERT INTO file_indicators (`+indicatorColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)
ON CONFLICT (algorithm, digest, source) DO UPDATE SET
	size        = excluded.size,
	verdict     = excluded.verdict,
	threat_name = excluded.threat_name,
	category    = excluded.category,
	first_seen  = excluded.first_seen,
	last_seen   = excluded.last_seen`,
		string(ind.Algorithm), ind.Digest, reputation.OverrideSource, size, string(ind.Verdict),
		ind.ThreatName, ind.Category, firstSeen, now, now)
	if err != nil {
		return fmt.Errorf("set override: %w", err)
	}
	return nil
}

// UnsetOverride is Server.UnsetOverride.
func (s *PostgresServer) UnsetOverride(ctx context.Context, alg checksum.Algorithm, digest []byte) error {
	if !alg.Valid() {
		return fmt.Errorf("unset override: unknown digest algorithm %q", alg)
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM file_indicators WHERE algorithm = $1 AND digest = $2 AND source = $3`,
		string(alg), digest, reputation.OverrideSource)
	if err != nil {
		return fmt.Errorf("unset override: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("unset override: no override for %s %x: %w", alg, digest, ErrNotFound)
	}
	return nil
}

// SetURLOverride is Server.SetURLOverride.
func (s *PostgresServer) SetURLOverride(ctx context.Context, ind reputation.URLIndicator) error {
	if err := validURLIndicator(ind); err != nil {
		return fmt.Errorf("set override: %w", err)
	}
	now := s.now().Unix()
	_, err := s.pool.Exec(ctx, `INSERT INTO url_indicators (hash, source, expression, verdict, threat_name, category, first_seen, added_at, last_seen, import_id)
VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, NULL)
ON CONFLICT (hash, source) DO UPDATE SET
	expression  = excluded.expression,
	verdict     = excluded.verdict,
	threat_name = excluded.threat_name,
	category    = excluded.category,
	last_seen   = excluded.last_seen`,
		ind.Hash[:], reputation.OverrideSource, ind.Expression, string(ind.Verdict), ind.ThreatName, ind.Category, now, now)
	if err != nil {
		return fmt.Errorf("set override: %w", err)
	}
	return nil
}

// UnsetURLOverride is Server.UnsetURLOverride.
func (s *PostgresServer) UnsetURLOverride(ctx context.Context, hash URLHash) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM url_indicators WHERE hash = $1 AND source = $2`, hash[:], reputation.OverrideSource)
	if err != nil {
		return fmt.Errorf("unset override: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("unset override: no override for that link: %w", ErrNotFound)
	}
	return nil
}

func (s *PostgresServer) setSetting(ctx context.Context, name, value string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO server_settings (name, value) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return err
}

func (s *PostgresServer) deleteSetting(ctx context.Context, name string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM server_settings WHERE name = $1`, name)
	return err
}

// setting returns a setting's value; ok is false when it is not set.
func (s *PostgresServer) setting(ctx context.Context, name string) (value string, ok bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT value FROM server_settings WHERE name = $1`, name).Scan(&value)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	return value, err == nil, err
}

// SetRestriction is Server.SetRestriction: every replica reads the switch
// from the database (at most a second late, see pkg/server).
func (s *PostgresServer) SetRestriction(ctx context.Context, until time.Time) error {
	var err error
	if until.IsZero() {
		err = s.deleteSetting(ctx, settingRestrictedUntil)
	} else {
		sec := until.Unix()
		if until.After(time.Unix(sec, 0)) { // round up, as Server does
			sec++
		}
		err = s.setSetting(ctx, settingRestrictedUntil, strconv.FormatInt(sec, 10))
	}
	if err != nil {
		return fmt.Errorf("set restriction: %w", err)
	}
	return nil
}

// Restriction is Server.Restriction.
func (s *PostgresServer) Restriction(ctx context.Context) (time.Time, error) {
	v, ok, err := s.setting(ctx, settingRestrictedUntil)
	if err != nil {
		return time.Time{}, fmt.Errorf("read restriction: %w", err)
	}
	if !ok {
		return time.Time{}, nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("read restriction: malformed value %q", v)
	}
	return unixTime(sec), nil
}

// SetStatement is Server.SetStatement.
func (s *PostgresServer) SetStatement(ctx context.Context, text string) error {
	var err error
	if text == "" {
		err = s.deleteSetting(ctx, settingStatement)
	} else {
		err = s.setSetting(ctx, settingStatement, text)
	}
	if err != nil {
		return fmt.Errorf("set statement: %w", err)
	}
	return nil
}

// Statement is Server.Statement.
func (s *PostgresServer) Statement(ctx context.Context) (string, bool, error) {
	text, ok, err := s.setting(ctx, settingStatement)
	if err != nil {
		return "", false, fmt.Errorf("read statement: %w", err)
	}
	return text, ok, nil
}

// Stats is Server.Stats.
func (s *PostgresServer) Stats(ctx context.Context) (ServerStats, error) {
	st := ServerStats{Indicators: make(map[string]int), Links: make(map[string]int)}
	fail := func(err error) (ServerStats, error) { return ServerStats{}, fmt.Errorf("stats: %w", err) }
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM licenses), (SELECT count(*) FROM sealed_submissions)`).
		Scan(&st.Licenses, &st.Submissions); err != nil {
		return fail(err)
	}
	for table, into := range map[string]map[string]int{"file_indicators": st.Indicators, "url_indicators": st.Links} {
		rows, err := s.pool.Query(ctx, `SELECT source, count(*) FROM `+table+` GROUP BY source`)
		if err != nil {
			return fail(err)
		}
		var src string
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&src, &n}, func() error { into[src] = n; return nil }); err != nil {
			return fail(err)
		}
	}
	until, err := s.Restriction(ctx)
	if err != nil {
		return fail(err)
	}
	st.RestrictedUntil = until
	return st, nil
}
