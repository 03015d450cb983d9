package store

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

// DefaultFileName is the name of the reputation database in the data
// directory.
const DefaultFileName = "reputation.db"

// ErrNotReputationDB reports a file that is not a ksn reputation database:
// not SQLite at all, corrupt, or another application's SQLite database.
var ErrNotReputationDB = errors.New("not a ksn reputation database")

// ErrNotFound reports that the row an operation names does not exist, for
// example UnsetOverride of a digest without an override.
var ErrNotFound = errors.New("not found")

const (
	// busyTimeout is how long a statement waits for a lock another
	// connection holds (another import, a migration in another process)
	// before failing with "database is locked".
	busyTimeout = 10 * time.Second

	// migrateBudget bounds how long OpenSQLite keeps retrying migrations
	// that lose a race with another process applying them.
	migrateBudget = time.Minute

	// mmapSize is how much of the database file lookups read through a
	// memory map (address space, not memory: the pages are the operating
	// system's file cache).
	mmapSize = 256 << 20

	// importCacheKiB is the page cache of an import's connection (the
	// default is 2 MiB). Indicators arrive in random key order, so an
	// import rewrites pages all over the table; with a small cache SQLite
	// would spill and rewrite the same pages to the -wal file again and
	// again (an import of 100,000 rows ran six times slower with 2 MiB).
	importCacheKiB = 64 << 10

	// applicationID is PRAGMA application_id of a ksn reputation database
	// ("ksn1"), set by the first migration.
	applicationID = 0x6b736e31
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// SQLite is the Store kept in one SQLite file (modernc.org/sqlite, no cgo),
// in WAL mode so that lookups never wait for an import.
//
// Times are stored as Unix seconds (UTC), digests as raw bytes. All its
// methods are safe for concurrent use, from several goroutines and several
// processes; an Importer is used by one goroutine.
type SQLite struct {
	db   *sql.DB
	path string
	now  func() time.Time // injectable clock for tests

	lookup *sql.Stmt // lookupSQL, prepared once
	algs   *sql.Stmt // algorithmsSQL, prepared once
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens the reputation database at path, creating it (and its
// parent directories, mode 0700; the file mode 0600) when missing, and
// brings its schema up to date, which on a fresh file includes the built-in
// baseline. Several processes may open the same fresh path at the same
// moment: every one of them succeeds and the schema is applied once.
//
// A file that is not a ksn reputation database gives an error wrapping
// ErrNotReputationDB; the file is left untouched.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("open reputation database: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open reputation database %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("open reputation database %s: create directory: %w", path, err)
	}
	// Create the file ourselves so that it gets mode 0600 (SQLite would use
	// 0644 less the umask; its -wal and -shm files copy the database's
	// mode). This also reports an unwritable location with the operating
	// system's own words rather than SQLite's "unable to open database file".
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open reputation database: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open reputation database: %w", err)
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("open reputation database: %w", err)
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("open reputation database %s: %w: not a regular file", path, ErrNotReputationDB)
	}

	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("open reputation database %s: %w", path, err)
	}
	// Lookups of one process run on few connections; keep them (and their
	// prepared statements) around.
	db.SetMaxIdleConns(4)

	s := &SQLite{db: db, path: abs, now: time.Now}
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open reputation database %s: %w", path, explain(err))
	}
	return s, nil
}

// dsn returns the modernc.org/sqlite data source name for the file at the
// absolute path abs. The file: URI form keeps any '?', '#' or '%' in the
// path part of the name.
func dsn(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: file:///C:/...
	}
	u := url.URL{Scheme: "file", Path: p}
	// Per-connection settings only. WAL mode is a property of the file,
	// set once by init after it made sure that the file is ours: a PRAGMA
	// journal_mode(WAL) here would convert another application's database
	// before we could refuse it.
	return u.String() + "?" + strings.Join([]string{
		// busy_timeout first: the PRAGMAs after it may need a lock.
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=synchronous(NORMAL)",
		"_pragma=foreign_keys(1)",
		// Lookups read the file through a memory map, without a system
		// call per page; SQLite falls back to reads where it cannot map.
		fmt.Sprintf("_pragma=mmap_size(%d)", mmapSize),
		// Bound the -wal file a big import leaves behind once checkpointed.
		"_pragma=journal_size_limit(67108864)",
		// Write transactions take the write lock when they begin, waiting
		// under busy_timeout, instead of failing with SQLITE_BUSY when they
		// try to upgrade a read snapshot another writer has made stale.
		// Read-only transactions (sql.TxOptions.ReadOnly) still use BEGIN.
		"_txlock=immediate",
	}, "&")
}

func (s *SQLite) init(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return err
	}
	if err := s.checkApplication(ctx); err != nil {
		return fmt.Errorf("check file: %w", err)
	}
	if err := s.enableWAL(ctx); err != nil {
		return fmt.Errorf("enable WAL: %w", err)
	}
	if err := migrate(ctx, s.db); err != nil {
		return err
	}
	var err error
	if s.lookup, err = s.db.PrepareContext(ctx, lookupSQL); err != nil {
		return err
	}
	if s.algs, err = s.db.PrepareContext(ctx, algorithmsSQL); err != nil {
		return err
	}
	return nil
}

// checkApplication refuses a SQLite database that belongs to another
// application: one with a foreign application_id, or without ours but with
// tables of its own. A fresh file, or one whose first migration another
// process is applying right now (it may already hold goose's version table),
// passes.
func (s *SQLite) checkApplication(ctx context.Context) error {
	// Both reads in one transaction, from one snapshot: another process
	// may commit the first migration (application_id and tables at once)
	// between two separate reads.
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
		return fmt.Errorf("%w: SQLite database of another application (application_id %#x)", ErrNotReputationDB, id)
	}
	var n int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master
		WHERE name NOT IN ('goose_db_version', 'sqlite_sequence') AND name NOT LIKE 'sqlite_autoindex_%'`).Scan(&n)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w: SQLite database with tables of another application", ErrNotReputationDB)
	}
	return nil
}

// enableWAL switches the file to WAL mode. The mode is persistent: every
// connection, of every process, uses WAL from then on, so this is a no-op
// but on a fresh file. (On a file system without shared memory SQLite
// keeps the rollback journal; that works, with less concurrency.)
//
// Switching needs an exclusive lock, and SQLite fails at once with
// SQLITE_BUSY, without waiting under busy_timeout, when other processes
// opening the same fresh file read it meanwhile; so retry for a while.
// (This is also why the mode is not a _pragma of the DSN: the driver would
// fail the connection.)
func (s *SQLite) enableWAL(ctx context.Context) error {
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

// migrate applies the embedded migrations with goose.
//
// goose has no lock for SQLite, so processes opening a fresh database at the
// same moment may each decide that a migration is pending. That race is made
// harmless rather than prevented:
//
//   - every goose transaction begins with BEGIN IMMEDIATE (_txlock), so
//     migrations run one at a time and wait for each other under
//     busy_timeout instead of failing on a stale snapshot;
//   - every migration runs in a transaction together with the insert of its
//     version row, and the unique index goose_db_version_once (created by
//     the first migration, which itself fails on its CREATE TABLE when
//     applied twice) makes the second application of any migration fail and
//     roll back as a whole, so each is applied exactly once;
//   - the loser gets an error ("already exists", UNIQUE constraint, busy),
//     and retries with a fresh provider, which sees the migration applied.
//     goose itself retries the creation of its version table.
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	deadline := time.Now().Add(migrateBudget)
	for attempt := 1; ; attempt++ {
		// A new provider for each attempt: a provider remembers that it
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
		// Back off a little, with jitter, so racing processes spread out.
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
	if code, ok := sqliteCode(err); ok {
		switch code & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
		if code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return true
		}
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

// explain turns the SQLite errors a user can meet when opening a database
// into words.
func explain(err error) error {
	code, ok := sqliteCode(err)
	if !ok {
		return err
	}
	switch code & 0xff {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return fmt.Errorf("%w: the file is not SQLite or is corrupt (%v)", ErrNotReputationDB, err)
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM:
		return fmt.Errorf("cannot write the database or its directory (SQLite keeps -wal and -shm files next to it): %w", err)
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("the database is locked by another process: %w", err)
	case sqlite3.SQLITE_FULL:
		return fmt.Errorf("disk full: %w", err)
	}
	return err
}

// DB returns the underlying database handle, for administrative commands.
func (s *SQLite) DB() *sql.DB { return s.db }

// Path returns the absolute path of the database file.
func (s *SQLite) Path() string { return s.path }

// Close closes the database. Commit or roll back Importers first.
func (s *SQLite) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.lookup, s.algs} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, s.db.Close())
	return errors.Join(errs...)
}
