package participation

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ksnproject/ksn/pkg/sqlitedb"
)

// fileName is the name of the participation database in ksn's state
// directory.
const fileName = "participation.db"

// The opening of the database follows pkg/store (OpenLocal, OpenServer): both use
// pkg/sqlitedb for the WAL switch, the check of the file and the
// race-tolerant goose migrations.
const (
	// busyTimeout is how long a statement waits for a lock another
	// connection holds (another ksn appending to the outbox, a migration
	// in another process) before failing with "database is locked".
	busyTimeout = sqlitedb.BusyTimeout

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
// absolute path abs: per-connection settings only (see sqlitedb.DSN).
func dsn(abs string) string {
	return sqlitedb.DSN(abs, []string{
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
	})
}

// errNotParticipationDB reports a file that is not a participation
// database: not SQLite, corrupt, another application's database, or ksn's
// reputation database put in the wrong place.
var errNotParticipationDB = errors.New("not a ksn participation database")

// init checks, switches to WAL and migrates the database the sqlitedb way,
// which see for why opening concurrently is safe.
func (s *Store) init(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return err
	}
	if err := sqlitedb.CheckApplication(ctx, s.db, applicationID, errNotParticipationDB); err != nil {
		return fmt.Errorf("check file: %w", err)
	}
	if err := sqlitedb.EnableWAL(ctx, s.db); err != nil {
		return fmt.Errorf("enable WAL: %w", err)
	}
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	return sqlitedb.Migrate(ctx, s.db, fsys)
}

// explain turns the SQLite errors a user can meet when opening the
// database into words.
func explain(err error) error { return sqlitedb.Explain(err, errNotParticipationDB) }

// fromUnixNano converts outbox times (Unix nanoseconds), fromUnix decision
// times (Unix seconds).
func fromUnixNano(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func fromUnix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
