package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

const (
	// BusyTimeout is how long a statement waits for a lock another
	// connection holds before failing with "database is locked"; callers
	// put it in their DSN (PRAGMA busy_timeout), and EnableWAL retries for
	// as long.
	BusyTimeout = 10 * time.Second

	// migrateBudget bounds how long Migrate keeps retrying migrations that
	// lose a race with another process applying them.
	migrateBudget = time.Minute
)

// DSN returns the modernc.org/sqlite data source name for the file at the
// absolute path abs with the given query parameters (such as
// "_pragma=busy_timeout(10000)" or "_txlock=immediate"), in order. The
// file: URI form keeps any '?', '#' or '%' in the path part of the name.
//
// Give per-connection settings only: WAL mode is a property of the file,
// set by EnableWAL after CheckApplication made sure that the file is ours.
func DSN(abs string, params []string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: file:///C:/...
	}
	u := url.URL{Scheme: "file", Path: p}
	return u.String() + "?" + strings.Join(params, "&")
}

// CheckApplication refuses a SQLite database that belongs to another
// application: one with an application_id other than appID, or without it
// but with tables of its own. A fresh file, or one whose first migration
// another process is applying right now (it may already hold goose's
// version table), passes. The errors of a refusal wrap notOurs.
func CheckApplication(ctx context.Context, db *sql.DB, appID int64, notOurs error) error {
	// Both reads in one transaction, from one snapshot: another process
	// may commit the first migration (application_id and tables at once)
	// between two separate reads.
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var id int64
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&id); err != nil {
		return err
	}
	if id == appID {
		return nil
	}
	if id != 0 {
		return fmt.Errorf("%w: SQLite database of another application (application_id %#x)", notOurs, id)
	}
	var n int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master
		WHERE name NOT IN ('goose_db_version', 'sqlite_sequence') AND name NOT LIKE 'sqlite_autoindex_%'`).Scan(&n)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w: SQLite database with tables of another application", notOurs)
	}
	return nil
}

// EnableWAL switches the file to WAL mode. The mode is persistent: every
// connection, of every process, uses WAL from then on, so this is a no-op
// but on a fresh file. (On a file system without shared memory SQLite
// keeps the rollback journal; that works, with less concurrency.)
//
// Switching needs an exclusive lock, and SQLite fails at once with
// SQLITE_BUSY, without waiting under busy_timeout, when other processes
// opening the same fresh file read it meanwhile; so retry for BusyTimeout.
// (This is also why the mode is not a _pragma of the DSN: the driver would
// fail the connection.)
func EnableWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(BusyTimeout)
	for {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		if err == nil || !IsBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
		}
	}
}

// Migrate applies the goose migrations in fsys (the .sql files at its
// root) to db.
//
// goose has no lock for SQLite, so processes opening a fresh database at the
// same moment may each decide that a migration is pending. That race is made
// harmless rather than prevented:
//
//   - every goose transaction begins with BEGIN IMMEDIATE (_txlock=immediate
//     in the DSN), so migrations run one at a time and wait for each other
//     under busy_timeout instead of failing on a stale snapshot;
//   - every migration runs in a transaction together with the insert of its
//     version row, and the unique index goose_db_version_once (created by
//     the first migration, which itself fails on its CREATE TABLE when
//     applied twice) makes the second application of any migration fail and
//     roll back as a whole, so each is applied exactly once;
//   - the loser gets an error ("already exists", UNIQUE constraint, busy),
//     and retries with a fresh provider, which sees the migration applied.
//     goose itself retries the creation of its version table.
func Migrate(ctx context.Context, db *sql.DB, fsys fs.FS) error {
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
	if IsBusy(err) {
		return true
	}
	if code, ok := Code(err); ok &&
		(code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "already exists") ||
		strings.Contains(msg, "UNIQUE constraint failed: goose_db_version") ||
		strings.Contains(msg, "database is locked")
}

// IsBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED (of
// any extended code).
func IsBusy(err error) bool {
	code, ok := Code(err)
	return ok && (code&0xff == sqlite3.SQLITE_BUSY || code&0xff == sqlite3.SQLITE_LOCKED)
}

// Code returns the (extended) SQLite result code of err, if err wraps a
// *sqlite.Error.
func Code(err error) (int, bool) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code(), true
	}
	return 0, false
}

// Explain turns the SQLite errors a user can meet when opening a database
// into words. A file that is not SQLite, or is corrupt, gives an error
// wrapping notOurs.
func Explain(err error, notOurs error) error {
	code, ok := Code(err)
	if !ok {
		return err
	}
	switch code & 0xff {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return fmt.Errorf("%w: the file is not SQLite or is corrupt (%v)", notOurs, err)
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM:
		return fmt.Errorf("cannot write the database or its directory (SQLite keeps -wal and -shm files next to it): %w", err)
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("the database is locked by another process: %w", err)
	case sqlite3.SQLITE_FULL:
		return fmt.Errorf("disk full: %w", err)
	}
	return err
}
