package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/seal"
	"github.com/ksnproject/ksn/pkg/store"
)

// Where a database's keys live by default, in ksn's state directory
// (KeyPlaces.StateDir), named by the database's id (store.Server
// DatabaseID): never in the database's own directory, so that a backup of
// the data directory holds neither the data keys (and a purge stays final
// in every copy) nor the key-encryption key.
//
//	<state>/server-keys/<id>/<half-year>.key   the data keys: never back them up
//	<state>/server-kek/<id>.kek                the key-encryption key: back it up, apart
const (
	keysDirName = "server-keys"
	kekDirName  = "server-kek"
)

// ownerFile, in a key directory, names the database it belongs to, so
// that one directory is never given two databases' keys.
const ownerFile = "database"

// KeyPlaces say where a server database's keys are: KeyDir (--key-dir)
// and KEK as given, and StateDir, ksn's state directory, that their
// defaults live in. Without StateDir (tests, embedding) the defaults are
// beside the database, <database>.keys and <database>.kek, as in earlier
// versions: `ksn serve` and `ksn admin` always give one.
type KeyPlaces struct {
	KeyDir   string
	KEK      KEKSource
	StateDir string
}

// keyDB is what placing the keys asks of the database.
type keyDB interface {
	Path() string
	DatabaseID(ctx context.Context) (string, error)
	UseDataKeys(ctx context.Context, keys store.DataKeys) (moved int, err error)
}

// placedKeys is where a database's keys turned out to be.
type placedKeys struct {
	KeyDir  string
	KEK     KEKSource // resolved: Path set
	Moved   int       // data keys moved out of the database
	KEKFrom string    // the earlier default KEK file moved to KEK.Path, if one was
}

// place resolves the key directory and the key-encryption key file of db,
// gives db its key directory (moving keys an earlier version kept in the
// database there), and moves a key-encryption key file from its earlier
// default place beside the database to the new one. Without claim (a
// command that only reads) it makes no directory and marks none as the
// database's.
func (p KeyPlaces) place(ctx context.Context, warn func(string), db keyDB, claim bool) (placedKeys, error) {
	var out placedKeys
	id, err := db.DatabaseID(ctx)
	if err != nil {
		return out, err
	}
	out.KeyDir, out.KEK = p.KeyDir, p.KEK
	// A PostgreSQL database has no file to keep keys beside, nor one an
	// earlier version kept its key-encryption key beside.
	file := !store.IsPostgresURL(db.Path())
	if !file && p.StateDir == "" && (out.KeyDir == "" || out.KEK.Path == "") {
		return out, &exitcode.Error{Code: exitcode.Usage, Err: errors.New("a PostgreSQL database has no default place for its keys here"),
			Hint: "give --key-dir DIR and --kek-file FILE"}
	}
	legacyKEK := db.Path() + kekSuffix
	switch {
	case out.KeyDir != "":
	case p.StateDir != "":
		out.KeyDir = filepath.Join(p.StateDir, keysDirName, id)
	default:
		out.KeyDir = db.Path() + ".keys"
	}
	switch {
	case out.KEK.Path != "" && out.KEK.From == "":
		out.KEK.From = "--kek-file"
	case out.KEK.Path == "" && p.StateDir != "":
		out.KEK.Path = filepath.Join(p.StateDir, kekDirName, id+kekSuffix)
		if !file {
			break
		}
		if out.KEKFrom, err = moveKEK(legacyKEK, out.KEK.Path); err != nil {
			return out, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("move the key-encryption key out of the database's directory: %w", err)}
		}
	case out.KEK.Path == "":
		out.KEK.Path = legacyKEK
	}
	if file && p.KeyDir != "" && inside(filepath.Dir(db.Path()), out.KeyDir) {
		warnf(warn, "the key directory %s is inside the database's directory: a backup of that directory keeps purged half-years readable; give --key-dir elsewhere", out.KeyDir)
	}
	if err := claimKeyDir(out.KeyDir, id, claim); err != nil {
		return out, err
	}
	if out.Moved, err = db.UseDataKeys(ctx, seal.KeyDir{Path: out.KeyDir}); err != nil {
		return out, &exitcode.Error{Code: exitcode.Usage, Err: err}
	}
	return out, nil
}

// claimKeyDir checks that the key directory is the database's; with
// claim, it makes it (0700) and marks it as the database's when it is not
// marked yet.
func claimKeyDir(dir, id string, claim bool) error {
	if claim {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("key directory: %w", err)}
		}
	}
	owner := filepath.Join(dir, ownerFile)
	b, err := os.ReadFile(owner)
	if errors.Is(err, fs.ErrNotExist) && !claim {
		return nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		err = os.WriteFile(owner, []byte(id+"\n"), 0o600)
		b = []byte(id)
	}
	if err != nil {
		return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("key directory: %w", err)}
	}
	if got := strings.TrimSpace(string(b)); got != id {
		return &exitcode.Error{Code: exitcode.Usage,
			Err:  fmt.Errorf("the key directory %s belongs to another database (%s, this one is %s)", dir, got, id),
			Hint: "give each database a key directory of its own: --key-dir DIR"}
	}
	return nil
}

// moveKEK moves the key-encryption key file from where earlier versions
// made it (beside the database) to its default place, when the one is
// there and the other is not; it returns the path it moved from, or "".
func moveKEK(from, to string) (string, error) {
	if _, err := os.Stat(to); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return "", nil // the new place has one (or cannot be looked at: loading will say)
	}
	kek, _, err := seal.ReadKEKFile(from)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return "", err
	}
	if err := seal.SaveKEKFile(to, kek); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	if again, _, err := seal.ReadKEKFile(to); err != nil || again != kek {
		return "", fmt.Errorf("%s does not hold the key of %s (%v); both kept", to, from, err)
	}
	return from, os.Remove(from)
}

// inside reports whether path is dir or below it.
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
