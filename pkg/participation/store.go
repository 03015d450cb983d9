package participation

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// fileName is the name of the participation database in ksn's state
// directory.
const fileName = "participation.db"

// The opening of the database follows pkg/store (OpenSQLite): the same DSN
// settings, WAL switch and race-tolerant goose migrations. Its helpers are
// unexported there, so this file has small equivalents of them rather than
// a dependency on the reputation database's internals.
const (
	// busyTimeout is how long a statement waits for a lock another
	// connection holds (another ksn appending to the outbox, a migration
	// in another process) before failing with "database is locked".
	busyTimeout = 10 * time.Second

	// migrateBudget bounds how long Open keeps retrying migrations that
	// lose a race with another process applying them.
	migrateBudget = time.Minute

	// applicationID is PRAGMA application_id of a participation database
	// ("ksnp"), set by the first migration.
	applicationID = 0x6b736e70
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is participation.db: the append-only record of consent decisions
// and the outbox of records waiting to be sent. It is one SQLite file in
// WAL mode; all its methods are safe for concurrent use by several
// goroutines and several processes.
type Store struct {
	db   *sql.DB
	path string
	now  func() time.Time // injectable clock for tests
}

// Open opens the participation database in ksn's state directory dir,
// creating the directory (mode 0700) and the file (mode 0600) when missing,
// and brings its schema up to date. Several processes may open the same
// fresh directory at the same moment: every one of them succeeds and the
// schema is applied once.
//
// An error means the state cannot be read or written; callers then treat
// participation as off (see Unavailable), never as on.
func Open(ctx context.Context, dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("open participation state: empty state directory")
	}
	abs, err := filepath.Abs(filepath.Join(dir, fileName))
	if err != nil {
		return nil, fmt.Errorf("open participation state in %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("open participation state: create state directory: %w", err)
	}
	// Create the file ourselves so that it gets mode 0600 (SQLite would use
	// 0644 less the umask, and its -wal and -shm files copy the database's
	// mode): decisions and the outbox are nobody else's business. This also
	// reports an unwritable directory in the operating system's words
	// rather than SQLite's "unable to open database file".
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open participation state: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open participation state: %w", err)
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("open participation state: %w", err)
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("open participation state %s: not a regular file", abs)
	}

	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("open participation state %s: %w", abs, err)
	}
	db.SetMaxIdleConns(2)
	s := &Store{db: db, path: abs, now: time.Now}
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open participation state %s: %w", abs, explain(err))
	}
	return s, nil
}

// Path returns the absolute path of the database file, for `ksn status`
// to say where the record of decisions lives.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// dsn returns the modernc.org/sqlite data source name for the file at the
// absolute path abs, with the same per-connection settings as pkg/store.
func dsn(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: file:///C:/...
	}
	// The file: URI form keeps any '?', '#' or '%' in the path.
	u := url.URL{Scheme: "file", Path: p}
	return u.String() + "?" + strings.Join([]string{
		// busy_timeout first: the PRAGMAs after it may need a lock.
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		// In WAL mode NORMAL loses no committed transaction when a process
		// dies (only, possibly, the last ones when the machine does), and
		// it does not fsync at every commit.
		"_pragma=synchronous(NORMAL)",
		// The statement journal of a multi-row INSERT (the pages it would
		// restore if it failed half-way, a few dozen) in memory rather
		// than in a temporary file.
		"_pragma=temp_store(MEMORY)",
		// 8 KiB pages for a new file (a no-op on an existing one): an
		// append of 20,000 records splits half as many pages, and stays
		// under the 1000-page auto-checkpoint, whose cost Close then pays
		// once. Measured: a fifth faster Append, about 5% faster in all.
		"_pragma=page_size(8192)",
		// Write transactions take the write lock when they begin, waiting
		// under busy_timeout, instead of failing with SQLITE_BUSY when they
		// try to upgrade a read snapshot another writer has made stale.
		"_txlock=immediate",
	}, "&")
}

func (s *Store) init(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return err
	}
	if err := s.checkApplication(ctx); err != nil {
		return fmt.Errorf("check file: %w", err)
	}
	if err := s.enableWAL(ctx); err != nil {
		return fmt.Errorf("enable WAL: %w", err)
	}
	return migrate(ctx, s.db)
}

// checkApplication refuses a SQLite database that belongs to another
// application (or is ksn's reputation database put in the wrong place):
// one with a foreign application_id, or without ours but with tables of its
// own. A fresh file, or one whose first migration another process is
// applying right now, passes.
func (s *Store) checkApplication(ctx context.Context) error {
	// Both reads from one snapshot: another process may commit the first
	// migration (application_id and tables at once) between two reads.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var id int64
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&id); err != nil {
		return err
	}
	if id == applicationID {
		return nil
	}
	if id != 0 {
		return fmt.Errorf("not a ksn participation database: SQLite database of another application (application_id %#x)", id)
	}
	var n int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master
		WHERE name NOT IN ('goose_db_version', 'sqlite_sequence') AND name NOT LIKE 'sqlite_autoindex_%'`).Scan(&n)
	if err != nil {
		return err
	}
	if n > 0 {
		return errors.New("not a ksn participation database: SQLite database with tables of another application")
	}
	return nil
}

// enableWAL switches the file to WAL mode, which is persistent: a no-op but
// on a fresh file. The switch needs an exclusive lock and SQLite fails at
// once with SQLITE_BUSY, without waiting under busy_timeout, when other
// processes opening the same fresh file read it meanwhile; so retry.
func (s *Store) enableWAL(ctx context.Context) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		var mode string
		err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
		}
	}
}

// migrate applies the embedded migrations with goose, tolerating processes
// that race to apply them (goose has no lock for SQLite), exactly as
// pkg/store does: every migration's transaction begins with BEGIN
// IMMEDIATE, the unique index goose_db_version_once makes a second
// application of a migration fail and roll back as a whole, and the loser
// retries with a fresh provider, which sees the migration applied.
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	deadline := time.Now().Add(migrateBudget)
	for attempt := 1; ; attempt++ {
		// A new provider each attempt: a provider remembers that it
		// checked the version table, even when that check failed.
		p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys,
			goose.WithDisableGlobalRegistry(true),
			goose.WithLogger(goose.NopLogger()),
		)
		if err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		err = upIfPending(ctx, p)
		if err == nil {
			return nil
		}
		if !migrationRace(err) || time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("migrate schema: %w", err)
		}
		d := time.Duration(attempt*10+rand.IntN(20)) * time.Millisecond
		select {
		case <-ctx.Done():
			return fmt.Errorf("migrate schema: %w", ctx.Err())
		case <-time.After(min(d, 500*time.Millisecond)):
		}
	}
}

func upIfPending(ctx context.Context, p *goose.Provider) error {
	pending, err := p.HasPending(ctx)
	if err != nil || !pending {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// migrationRace reports whether err is what losing a race to apply a
// migration looks like.
func migrationRace(err error) bool {
	if isBusy(err) {
		return true
	}
	if code, ok := sqliteCode(err); ok &&
		(code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "already exists") ||
		strings.Contains(msg, "UNIQUE constraint failed: goose_db_version") ||
		strings.Contains(msg, "database is locked")
}

func isBusy(err error) bool {
	code, ok := sqliteCode(err)
	return ok && (code&0xff == sqlite3.SQLITE_BUSY || code&0xff == sqlite3.SQLITE_LOCKED)
}

func sqliteCode(err error) (int, bool) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code(), true
	}
	return 0, false
}

// explain turns the SQLite errors a user can meet when opening the
// database into words.
func explain(err error) error {
	code, ok := sqliteCode(err)
	if !ok {
		return err
	}
	switch code & 0xff {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return fmt.Errorf("not a ksn participation database: the file is not SQLite or is corrupt (%v)", err)
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM:
		return fmt.Errorf("cannot write the database or its directory (SQLite keeps -wal and -shm files next to it): %w", err)
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("the database is locked by another process: %w", err)
	case sqlite3.SQLITE_FULL:
		return fmt.Errorf("disk full: %w", err)
	}
	return err
}

// fromUnixNano converts outbox times (Unix nanoseconds), fromUnix decision
// times (Unix seconds).
func fromUnixNano(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func fromUnix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
