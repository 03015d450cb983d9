package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// DefaultServerFileName is the name of the reputation server's database in
// the data directory. It is not the client's reputation.db, so that running
// `ksn serve` on a workstation never mixes the team's licenses and
// submissions into the user's own database.
const DefaultServerFileName = "server.db"

// Server is the reputation server's database (DefaultServerFileName in the
// data directory, or `ksn serve --db`): licenses, sealed submissions and
// their aggregates, the operator's settings and overrides, and the
// indicators the server answers lookups with. `ksn serve` and `ksn admin`
// open it; `ksn feed import --db` loads feeds into it like into a Local.
//
// It implements ServerStore (the request handlers) and ServerAdmin (the
// operator), and Store for feed imports. Its methods are safe for
// concurrent use, from several goroutines and several processes (several
// servers and an operator's commands on one file).
type Server struct {
	sqliteDB
	sealing sealing // the KEK and the current data key (sqlite_sealing.go)

	groupMu sync.Mutex
	writer  *groupWriter // nil: groups are written on the pool's connections

	// byKey finds a license by its key's hash. Every request asks it
	// first; prepared afresh each time, its parsing was half of what a
	// one-item lookup cost the server.
	byKey *sql.Stmt

	filter serverFilter // the indicator keys in memory (sqlite_keyfilter.go)
}

// OpenServer opens the server database at path, creating it (and its parent
// directories, mode 0700; the file mode 0600) when missing, and brings its
// schema up to date. Several processes may open the same fresh path at the
// same moment: every one of them succeeds and the schema is applied once.
//
// A file that is not a ksn reputation database gives an error wrapping
// ErrNotReputationDB; the file is left untouched.
func OpenServer(ctx context.Context, path string) (*Server, error) {
	s := &Server{}
	if err := s.open(ctx, path); err != nil {
		return nil, err
	}
	s.filter.init()
	var err error
	if s.byKey, err = s.db.PrepareContext(ctx, `SELECT `+licenseColumns+` FROM licenses WHERE key_sha256 = ?`); err != nil {
		s.sqliteDB.Close()
		return nil, fmt.Errorf("open reputation database %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Server) Close() error {
	return errors.Join(s.filter.close(), s.byKey.Close(), s.sqliteDB.Close())
}

// Names of server_settings rows.
const (
	settingRestrictedUntil = "files_restricted_until" // Unix seconds
	settingStatement       = "statement_text"
)

func (s *Server) setSetting(ctx context.Context, name, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO server_settings (name, value) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return explainWrite(err)
}

func (s *Server) deleteSetting(ctx context.Context, name string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM server_settings WHERE name = ?`, name)
	return explainWrite(err)
}

// setting returns a setting's value; ok is false when it is not set.
func (s *Server) setting(ctx context.Context, name string) (value string, ok bool, err error) {
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
func (s *Server) SetRestriction(ctx context.Context, until time.Time) error {
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
func (s *Server) Restriction(ctx context.Context) (time.Time, error) {
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
func (s *Server) SetStatement(ctx context.Context, text string) error {
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
func (s *Server) Statement(ctx context.Context) (text string, ok bool, err error) {
	text, ok, err = s.setting(ctx, settingStatement)
	if err != nil {
		return "", false, fmt.Errorf("read statement: %w", err)
	}
	return text, ok, nil
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
func (s *Server) Stats(ctx context.Context) (ServerStats, error) {
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
func (s *Server) countBySource(ctx context.Context, table string, into map[string]int) error {
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
