package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/ksnproject/ksn/pkg/sqlitedb"
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
	busyTimeout = sqlitedb.BusyTimeout

	// mmapSize is how much of the database file lookups read through a
	// memory map (address space, not memory: the pages are the operating
	// system's file cache): the most this build of SQLite maps
	// (SQLITE_MAX_MMAP_SIZE, just under 2 GiB), so that the whole of a
	// 10⁷-digest database (about 1.3 GB) is read without a system call
	// per page. 256 MiB served a 10⁷-digest database at a fifth of the
	// speed of a small one; past the mapping SQLite falls back to reads.
	mmapSize = 2147418112

	// maxConns bounds the connections of one process. Each keeps its
	// prepared statements; an unbounded pool, under 64 concurrent
	// clients, spent more CPU opening, closing and re-preparing
	// connections than looking up, and 256 connections held gigabytes.
	// Readers beyond the cores gain nothing, and writers take turns on
	// SQLite's lock anyway.
	minConns = 8

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

// sqliteDB is what both kinds of database are made of: one SQLite file
// (modernc.org/sqlite, no cgo) in WAL mode, so that lookups never wait for
// an import, with the indicator tables, their lookups and their imports.
// Local and Server embed it; the two share one schema (migrations/), so
// that `ksn feed import --db` loads a feed into either.
//
// Times are stored as Unix seconds (UTC), digests as raw bytes. All its
// methods are safe for concurrent use, from several goroutines and several
// processes; an Importer is used by one goroutine.
type sqliteDB struct {
	db   *sql.DB
	path string
	now  func() time.Time // injectable clock for tests

	lookup [len(lookupClasses)]lazyStmt // lookupSQL of each class
	stats  [len(lookupClasses)]lazyStmt // objectStatsSQL of each class (prevalence)
	algs   lazyStmt                     // algorithmsSQL
	urls   urlStmts                     // the link statements (sqlite_urls.go)
}

// open opens the reputation database at path into s, creating it (and its
// parent directories, mode 0700; the file mode 0600) when missing, and
// brings its schema up to date, which on a fresh file includes the built-in
// baseline. Several processes may open the same fresh path at the same
// moment: every one of them succeeds and the schema is applied once.
//
// A file that is not a ksn reputation database gives an error wrapping
// ErrNotReputationDB; the file is left untouched.
func (s *sqliteDB) open(ctx context.Context, path string) error {
	if path == "" {
		return errors.New("open reputation database: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("open reputation database %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return fmt.Errorf("open reputation database %s: create directory: %w", path, err)
	}
	// Create the file ourselves so that it gets mode 0600 (SQLite would use
	// 0644 less the umask; its -wal and -shm files copy the database's
	// mode). This also reports an unwritable location with the operating
	// system's own words rather than SQLite's "unable to open database file".
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open reputation database: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("open reputation database: %w", err)
	}
	if st, err := os.Stat(abs); err != nil {
		return fmt.Errorf("open reputation database: %w", err)
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("open reputation database %s: %w: not a regular file", path, ErrNotReputationDB)
	}

	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return fmt.Errorf("open reputation database %s: %w", path, err)
	}
	// Lookups of one process run on few connections; keep them (and their
	// prepared statements) around, and no more of them.
	conns := max(minConns, 2*runtime.NumCPU())
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)

	s.db, s.path, s.now = db, abs, time.Now
	if err := s.init(ctx); err != nil {
		db.Close()
		return fmt.Errorf("open reputation database %s: %w", path, explain(err))
	}
	return nil
}

// dsn returns the modernc.org/sqlite data source name for the file at the
// absolute path abs.
func dsn(abs string) string {
	// Per-connection settings only. WAL mode is a property of the file,
	// set once by init after it made sure that the file is ours: a PRAGMA
	// journal_mode(WAL) here would convert another application's database
	// before we could refuse it.
	return sqlitedb.DSN(abs, []string{
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
	})
}

// init checks, switches to WAL and migrates the database the sqlitedb way
// (which see for why opening concurrently is safe), and names the
// statements lookups prepare on first use.
func (s *sqliteDB) init(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return err
	}
	if err := sqlitedb.CheckApplication(ctx, s.db, applicationID, ErrNotReputationDB); err != nil {
		return fmt.Errorf("check file: %w", err)
	}
	if err := sqlitedb.EnableWAL(ctx, s.db); err != nil {
		return fmt.Errorf("enable WAL: %w", err)
	}
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	if err := sqlitedb.Migrate(ctx, s.db, fsys); err != nil {
		return err
	}
	s.nameStatements()
	return nil
}

// nameStatements gives each lazily prepared statement its query.
func (s *sqliteDB) nameStatements() {
	for i, n := range lookupClasses {
		s.lookup[i].query = lookupSQL(n)
		s.stats[i].query = objectStatsSQL(n)
	}
	s.algs.query = algorithmsSQL
	s.urls.name()
}

func sqliteCode(err error) (int, bool) { return sqlitedb.Code(err) }

// explain turns the SQLite errors a user can meet when opening a database
// into words.
func explain(err error) error { return sqlitedb.Explain(err, ErrNotReputationDB) }

// explainWrite names the usual reason a write fails.
func explainWrite(err error) error {
	if code, ok := sqliteCode(err); ok {
		switch code & 0xff {
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
			// Within one server, submissions queue for the one writer
			// (QueueWrites), so a lock held this long is another
			// writer's: an import, an admin command, a purge, or another
			// process on the file. Which one, the database cannot say.
			return fmt.Errorf("the database stayed locked by another writer for more than %v (a feed import, a ksn admin command or a purge, in this process or another): %w", busyTimeout, err)
		}
	}
	return err
}

// DB returns the underlying database handle, for tests and maintenance
// that no method covers.
func (s *sqliteDB) DB() *sql.DB { return s.db }

// Path returns the absolute path of the database file.
func (s *sqliteDB) Path() string { return s.path }

// Close closes the database. Commit or roll back Importers first.
func (s *sqliteDB) Close() error {
	var errs []error
	for i := range s.lookup {
		errs = append(errs, s.lookup[i].close(), s.stats[i].close())
	}
	errs = append(errs, s.algs.close(), s.urls.byHash.close(), s.urls.bounded.close(), s.urls.last.close())
	errs = append(errs, s.db.Close())
	return errors.Join(errs...)
}
