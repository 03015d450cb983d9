package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultServerFileName is the name of the reputation server's database in
// the data directory. It is not the client's reputation.db, so that running
// `ksn serve` on a workstation never mixes the team's licenses and
// submissions into the user's own database.
const DefaultServerFileName = "server.db"

// LicenseKeyPrefix starts every license key, so that a key is recognisable
// in a config file or a secret scanner, and `ksn admin` can tell a key from
// a license id.
const LicenseKeyPrefix = "ksn_"

// ErrBadLicenseRef reports text that is neither a license key nor a
// license id, as an operator may mistype it.
var ErrBadLicenseRef = errors.New("neither a license key nor a license id")

// licenseKeyBytes is the entropy of a key: 160 bits, 32 base32 characters.
const licenseKeyBytes = 20

// keyEncoding spells keys in lower-case base32 without padding: no
// characters that need quoting in a shell or a URL.
var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// License states, as License.State reports them.
const (
	LicenseValid      = "valid"
	LicenseExpired    = "expired"
	LicenseDenylisted = "denylisted"
)

// License is one license as the server's database holds it. The key is
// not part of it: only its SHA-256 is stored.
type License struct {
	ID        int64
	Label     string
	CreatedAt time.Time
	ExpiresAt *time.Time // nil: never expires
	RevokedAt *time.Time // nil: not denylisted
}

// State says whether the license may be used at now: LicenseDenylisted wins
// over LicenseExpired, because a revocation is final while an expiry can be
// extended.
func (l License) State(now time.Time) string {
	switch {
	case l.RevokedAt != nil:
		return LicenseDenylisted
	case l.ExpiresAt != nil && !now.Before(*l.ExpiresAt):
		return LicenseExpired
	}
	return LicenseValid
}

// hashKey is what the licenses table stores of a key.
func hashKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// CreateLicense makes a license with a new random key and returns the key:
// the only time it exists outside the client that activates it. expires nil
// means the license never expires.
func (s *SQLite) CreateLicense(ctx context.Context, label string, expires *time.Time) (string, License, error) {
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
	l := License{ID: id, Label: label, CreatedAt: now, ExpiresAt: optTime(optUnix(expires))}
	return key, l, nil
}

const licenseColumns = `id, label, created_at, expires_at, revoked_at`

func scanLicense(row interface{ Scan(...any) error }) (License, error) {
	var (
		l                License
		created          int64
		expires, revoked sql.NullInt64
	)
	if err := row.Scan(&l.ID, &l.Label, &created, &expires, &revoked); err != nil {
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
func (s *SQLite) LicenseByKey(ctx context.Context, key string) (License, error) {
	l, err := scanLicense(s.db.QueryRowContext(ctx,
		`SELECT `+licenseColumns+` FROM licenses WHERE key_sha256 = ?`, hashKey(key)))
	if errors.Is(err, sql.ErrNoRows) {
		return License{}, fmt.Errorf("license: unknown key: %w", ErrNotFound)
	}
	if err != nil {
		return License{}, fmt.Errorf("license: %w", err)
	}
	return l, nil
}

// ListLicenses returns every license, oldest first.
func (s *SQLite) ListLicenses(ctx context.Context) ([]License, error) {
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
func (s *SQLite) updateLicense(ctx context.Context, what, set, keyOrID string, args ...any) (License, error) {
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
func (s *SQLite) RevokeLicense(ctx context.Context, keyOrID string) (License, error) {
	return s.updateLicense(ctx, "revoke license", `revoked_at = coalesce(revoked_at, ?)`, keyOrID, s.now().Unix())
}

// ExtendLicense sets when a license expires, by key or id; nil means never.
// It may also shorten a license, or expire it at once with a past time.
func (s *SQLite) ExtendLicense(ctx context.Context, keyOrID string, expires *time.Time) (License, error) {
	return s.updateLicense(ctx, "set license expiry", `expires_at = ?`, keyOrID, optUnix(expires))
}

// ParseRecordID decodes a submission record id: 32 lower-case hex
// characters (128 random bits). Upper case is refused so that one record
// has exactly one spelling of its id.
func ParseRecordID(id string) ([]byte, error) {
	if len(id) != 32 || strings.ToLower(id) != id {
		return nil, fmt.Errorf("record id %q is not 32 lower-case hex characters", id)
	}
	b, err := hex.DecodeString(id)
	if err != nil {
		return nil, fmt.Errorf("record id %q is not 32 lower-case hex characters", id)
	}
	return b, nil
}

// Names of server_settings rows.
const (
	settingRestrictedUntil = "files_restricted_until" // Unix seconds
	settingStatement       = "statement_text"
)

func (s *SQLite) setSetting(ctx context.Context, name, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO server_settings (name, value) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return explainWrite(err)
}

func (s *SQLite) deleteSetting(ctx context.Context, name string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM server_settings WHERE name = ?`, name)
	return explainWrite(err)
}

// setting returns a setting's value; ok is false when it is not set.
func (s *SQLite) setting(ctx context.Context, name string) (value string, ok bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT value FROM server_settings WHERE name = ?`, name).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return value, err == nil, err
}

// SetRestriction switches file reputation off service-wide until the given
// time (the server answers file lookups with 503 restricted meanwhile); the
// zero time switches it back on. It lives in the database so that every
// server process on it sees the operator's switch.
func (s *SQLite) SetRestriction(ctx context.Context, until time.Time) error {
	var err error
	if until.IsZero() {
		err = s.deleteSetting(ctx, settingRestrictedUntil)
	} else {
		// Round up: a restriction "for 10m" must not end early.
		sec := until.Unix()
		if until.After(time.Unix(sec, 0)) {
			sec++
		}
		err = s.setSetting(ctx, settingRestrictedUntil, strconv.FormatInt(sec, 10))
	}
	if err != nil {
		return fmt.Errorf("set restriction: %w", err)
	}
	return nil
}

// Restriction returns until when file reputation is restricted; the zero
// time when it never was or the switch is off. A time in the past means
// the restriction is over.
func (s *SQLite) Restriction(ctx context.Context) (time.Time, error) {
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

// SetStatement stores the statement text the server serves, so that a
// restarted server keeps serving it: a server falling back to another text
// would pause every participant (their accepted statement id would no
// longer match). An empty text removes it.
func (s *SQLite) SetStatement(ctx context.Context, text string) error {
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

// Statement returns the stored statement text; ok is false when none was
// stored.
func (s *SQLite) Statement(ctx context.Context) (text string, ok bool, err error) {
	text, ok, err = s.setting(ctx, settingStatement)
	if err != nil {
		return "", false, fmt.Errorf("read statement: %w", err)
	}
	return text, ok, nil
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

// ServerStats summarise a server database for `ksn admin stats`.
type ServerStats struct {
	Licenses    int            // all licenses, whatever their state
	Submissions int            // sealed submission records held (not yet purged)
	Indicators  map[string]int // file indicators by source (feeds, baseline, override)
	Links       map[string]int // link indicators by source
	// RestrictedUntil is the file-reputation switch (zero: never set or off).
	RestrictedUntil time.Time
}

// Stats counts what the server database holds. Counting indicators reads
// the whole table: this is for an operator, not for a request path.
func (s *SQLite) Stats(ctx context.Context) (ServerStats, error) {
	st := ServerStats{Indicators: make(map[string]int), Links: make(map[string]int)}
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM licenses), (SELECT count(*) FROM sealed_submissions)`).
		Scan(&st.Licenses, &st.Submissions); err != nil {
		return ServerStats{}, fmt.Errorf("stats: %w", err)
	}
	if err := s.countBySource(ctx, "file_indicators", st.Indicators); err != nil {
		return ServerStats{}, fmt.Errorf("stats: %w", err)
	}
	if err := s.countBySource(ctx, "url_indicators", st.Links); err != nil {
		return ServerStats{}, fmt.Errorf("stats: %w", err)
	}
	until, err := s.Restriction(ctx)
	if err != nil {
		return ServerStats{}, fmt.Errorf("stats: %w", err)
	}
	st.RestrictedUntil = until
	return st, nil
}

// countBySource counts the rows of an indicator table by source into into.
// table is one of this package's table names, never input.
func (s *SQLite) countBySource(ctx context.Context, table string, into map[string]int) error {
	rows, err := s.db.QueryContext(ctx, `SELECT source, count(*) FROM `+table+` GROUP BY source ORDER BY source`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var src string
		var n int
		if err := rows.Scan(&src, &n); err != nil {
			return err
		}
		into[src] = n
	}
	return rows.Err()
}
