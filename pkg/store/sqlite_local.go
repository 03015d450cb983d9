package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ksnproject/ksn/pkg/sqlitedb"
)

// Local is the user's local reputation database (DefaultFileName in the
// data directory): the indicators of the built-in baseline and of the feeds
// the user imported, which `ksn check` and `ksn url` look up before asking
// the network, and the cache of the network's answers (CachedVerdicts).
// It holds nothing of a server: no license, no submission.
//
// It implements Store. Its methods are safe for concurrent use, from
// several goroutines and several processes.
type Local struct {
	sqliteDB
}

var _ Store = (*Local)(nil)

// OpenLocal opens the local reputation database at path, creating it (and
// its parent directories, mode 0700; the file mode 0600) when missing, and
// brings its schema up to date, which on a fresh file includes the
// built-in baseline. Several processes may open the same fresh path at the
// same moment: every one of them succeeds and the schema is applied once.
//
// A file that is not a ksn reputation database gives an error wrapping
// ErrNotReputationDB; the file is left untouched.
func OpenLocal(ctx context.Context, path string) (*Local, error) {
	l := &Local{}
	if err := l.open(ctx, path); err != nil {
		return nil, err
	}
	return l, nil
}

// OpenLocalReadOnly opens an existing local database without writing to
// it, nor to its directory: for a database ksn cannot write (another
// user's shared one, a read-only file system). The file is read as it is
// (SQLite's immutable mode), so it must be at the schema of this version:
// an older one is an error, not a migration. Writes (imports, the network
// cache) fail.
func OpenLocalReadOnly(ctx context.Context, path string) (*Local, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open reputation database %s: %w", path, err)
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("open reputation database: %w", err)
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("open reputation database %s: %w: not a regular file", path, ErrNotReputationDB)
	}
	db, err := sql.Open("sqlite", sqlitedb.DSN(abs, []string{"mode=ro", "immutable=1"}))
	if err != nil {
		return nil, fmt.Errorf("open reputation database %s: %w", path, err)
	}
	l := &Local{sqliteDB{db: db, path: abs, now: time.Now}}
	err = sqlitedb.CheckApplication(ctx, db, applicationID, ErrNotReputationDB)
	if err == nil {
		// Nothing can migrate a read-only file: preparing the lookups now
		// finds a schema they cannot read before any result depends on it.
		l.nameStatements()
		_, err = l.algs.get(db)
		for i := range l.lookup {
			if err == nil {
				_, err = l.lookup[i].get(db)
			}
		}
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open reputation database %s read-only: %w", path, explain(err))
	}
	return l, nil
}

// OpenLocalTemporary creates a fresh local database (the built-in
// baseline, nothing imported) in a temporary directory that Close
// removes: local verdicts when no database can be opened at all.
func OpenLocalTemporary(ctx context.Context) (*TemporaryLocal, error) {
	dir, err := os.MkdirTemp("", "ksn-local-")
	if err != nil {
		return nil, fmt.Errorf("temporary reputation database: %w", err)
	}
	l, err := OpenLocal(ctx, filepath.Join(dir, DefaultFileName))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &TemporaryLocal{Local: l, dir: dir}, nil
}

// OpenLocalDegraded gives local verdicts when the local database at path
// could not be opened for writing (cause: another user's, a read-only
// directory, no home; path "" when it is not even known): the database
// read as it is, else the built-in baseline alone in a temporary
// database. why says which, to warn the user that nothing can be
// recorded. A file that is not a reputation database stays an error
// (cause): it must not be hidden; so does a failure of both.
func OpenLocalDegraded(ctx context.Context, path string, cause error) (db Store, why string, err error) {
	if errors.Is(cause, ErrNotReputationDB) {
		return nil, "", cause
	}
	if path != "" {
		if l, err := OpenLocalReadOnly(ctx, path); err == nil {
			return l, "reading it as it is; nothing can be recorded in it (no network answer cached, no feed imported)", nil
		}
	}
	t, err := OpenLocalTemporary(ctx)
	if err != nil {
		return nil, "", cause
	}
	return t, "using the built-in baseline alone; imported feeds are not available and nothing can be recorded", nil
}

// TemporaryLocal is a Local that removes itself when closed.
type TemporaryLocal struct {
	*Local
	dir string
}

// Close closes the database and removes its directory.
func (t *TemporaryLocal) Close() error {
	err := t.Local.Close()
	return errors.Join(err, os.RemoveAll(t.dir))
}
