package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/store"
)

// A mistyped --db must not quietly make a new, empty database: an admin
// command would then print a license key no server knows, or report a
// restriction no server sees. So only `ksn serve` and `ksn admin init`
// create a SQLite server database, and only in a directory that exists.

// DefaultDBPath is the server database used without --db:
// $KSN_DATABASE_URL when set, else DefaultDBFileName in dataDir.
func DefaultDBPath(dataDir string, env func(string) string) string {
	if env != nil {
		if v := env(DatabaseURLEnv); v != "" {
			return v
		}
	}
	return filepath.Join(dataDir, DefaultDBFileName)
}

// missingSQLite reports whether location names a SQLite file that does
// not exist yet. A PostgreSQL URL is never missing: the server and its
// migrations make its tables, the operator makes the database.
func missingSQLite(location string) (bool, error) {
	if store.IsPostgresURL(location) {
		return false, nil
	}
	_, err := os.Stat(location)
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, fs.ErrNotExist):
		return true, nil
	default:
		return false, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot open the server database: %w", err)}
	}
}

// refuseMissing is what admin commands do with a database that is not there.
func refuseMissing(location string) error {
	missing, err := missingSQLite(location)
	if err != nil || !missing {
		return err
	}
	return &exitcode.Error{Code: exitcode.Usage,
		Err:  fmt.Errorf("no server database at %s", location),
		Hint: "check --db; 'ksn admin init --db " + location + "' (or 'ksn serve --db " + location + "') creates one"}
}

// mayCreate checks that a missing SQLite database can be made where
// location says: its directory must exist, unless makeDir (the default
// place, in ksn's own data directory). It reports whether the database
// will be new.
func mayCreate(location string, makeDir bool) (bool, error) {
	missing, err := missingSQLite(location)
	if err != nil || !missing {
		return false, err
	}
	dir := filepath.Dir(location)
	if makeDir {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return false, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot create the server database: %w", err)}
		}
		return true, nil
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return false, &exitcode.Error{Code: exitcode.Usage,
			Err:  fmt.Errorf("cannot create the server database %s: the directory %s does not exist", location, dir),
			Hint: "check --db, or create the directory first"}
	}
	return true, nil
}

// Init makes the server database if it is not there yet (a SQLite file,
// in a directory that exists, or in ksn's data directory by default) and brings its schema up to date (SQLite or
// PostgreSQL). It reports the database's location and whether it is new.
func (a *Admin) Init(ctx context.Context) (location string, created bool, err error) {
	if err := a.resolveDB(); err != nil {
		return "", false, err
	}
	if created, err = mayCreate(a.DB, a.defaulted); err != nil {
		return "", false, err
	}
	db, err := store.OpenServerDatabase(ctx, a.DB)
	if err != nil {
		return "", false, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot open the server database: %w", err)}
	}
	defer db.Close()
	return db.Path(), created, nil
}
