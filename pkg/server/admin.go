package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/store"
)

// DefaultDBFileName is the name of the server database in ksn's data
// directory, where `ksn serve` and `ksn admin` look without --db.
const DefaultDBFileName = store.DefaultServerFileName

// Admin is the operator's side of a server database: what `ksn admin`
// does. Each method checks its arguments, then opens the database, does its
// work and closes it again, so that it runs beside a running server (SQLite's
// WAL mode and busy timeout let them share the file; servers see changes at
// once, restrictions within a second).
//
// Its errors carry their exit code and are written for the operator of
// `ksn admin`, naming its flags where an argument is wrong.
type Admin struct {
	// DB is the server database: a SQLite file's path or a postgres://
	// URL. When empty, DefaultDB gives it,
	// asked only once the arguments are known to be right.
	DB        string
	DefaultDB func() (string, error)
	// KeyDir (--key-dir) and StateDir place the database's keys, as for
	// `ksn serve` (KeyPlaces).
	KeyDir   string
	StateDir string
	// Now is the clock that relative times (expiries, restrictions,
	// purges) count from; nil means time.Now.
	Now func() time.Time
	// Warn hears what the operator should fix but does not stop the
	// command (a key file others may read); nil drops it.
	Warn func(msg string)

	defaulted bool // DB came from DefaultDB
}

func (a *Admin) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// open opens the server database.
func (a *Admin) open(ctx context.Context) (store.ServerAdmin, error) {
	if err := a.resolveDB(); err != nil {
		return nil, err
	}
	if err := refuseMissing(a.DB); err != nil {
		return nil, err
	}
	db, err := store.OpenServerDatabase(ctx, a.DB)
	if err != nil {
		return nil, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("cannot open the server database: %w", err)}
	}
	return db, nil
}

// resolveDB fills in the default database when --db was not given.
func (a *Admin) resolveDB() error {
	if a.DB == "" && a.DefaultDB != nil {
		p, err := a.DefaultDB()
		if err != nil {
			return err
		}
		a.DB, a.defaulted = p, true
	}
	return nil
}

// openKeys opens the server database with its data keys in place (see
// KeyPlaces), for what opens, counts or purges records; kek says where
// the key-encryption key is (resolved in the result). claim is for what
// writes: it may make the key directory.
func (a *Admin) openKeys(ctx context.Context, kek KEKSource, claim bool) (store.ServerAdmin, placedKeys, error) {
	db, err := a.open(ctx)
	if err != nil {
		return nil, placedKeys{}, err
	}
	placed, err := KeyPlaces{KeyDir: a.KeyDir, KEK: kek, StateDir: a.StateDir}.place(ctx, a.Warn, db, claim)
	if err != nil {
		db.Close()
		return nil, placedKeys{}, err
	}
	return db, placed, nil
}

// usage returns a usage error (exit 2) with a hint, as the admin's
// argument checks give them.
func usage(hint, format string, args ...any) error {
	return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf(format, args...), Hint: hint}
}

// notFound makes a usage error (exit 2) of a license or override the
// operator named that does not exist, or of text that names none.
func notFound(err error, hint string) error {
	if errors.Is(err, store.ErrNotFound) {
		return &exitcode.Error{Code: exitcode.Usage, Err: err, Hint: hint}
	}
	if errors.Is(err, store.ErrBadLicenseRef) {
		return &exitcode.Error{Code: exitcode.Usage, Err: err}
	}
	return err
}
