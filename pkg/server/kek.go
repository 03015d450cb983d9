package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/seal"
	"github.com/ksnproject/ksn/pkg/store"
)

// KEKEnv names the key-encryption key file when no --kek-file does.
const KEKEnv = "KSN_KEK_FILE"

// kekSuffix ends the name of a default key-encryption key file:
// <state>/server-kek/<database id>.kek, or, as earlier versions made it,
// server.db.kek beside server.db (keys.go).
const kekSuffix = ".kek"

// KEKSource says where the key-encryption key is read from: the file Path,
// named by From ("--kek-file" or KEKEnv), or, when Path is empty, the
// default (KeyPlaces).
type KEKSource struct {
	Path string
	From string
}

// ChooseKEK decides the key-encryption key file: the flag, else the
// environment (env may be nil), else the default (KeyPlaces).
func ChooseKEK(flag string, env func(string) string) KEKSource {
	if flag != "" {
		return KEKSource{Path: flag, From: "--kek-file"}
	}
	if env != nil {
		if v := env(KEKEnv); v != "" {
			return KEKSource{Path: v, From: KEKEnv}
		}
	}
	return KEKSource{}
}

// fromText names where a key file came from, in messages.
func (k KEKSource) fromText() string {
	if k.From == "" {
		return "the default"
	}
	return k.From
}

// kekBinding is what loading a key-encryption key asks of the database.
type kekBinding interface {
	KEKBound(ctx context.Context) (fingerprint string, ok bool, err error)
}

// loadKEK reads the key-encryption key of a resolved source. With create,
// a missing default file is made, unless the database is already bound to
// a key (which a new file could not be); a file named by the flag or the
// environment is never made, so that a typo does not start a server on a
// key nobody will find again. created says whether it was made; warn
// hears of a file other users may read.
func loadKEK(ctx context.Context, warn func(string), db kekBinding, c KEKSource, create bool) (kek seal.Key, created bool, err error) {
	kek, insecure, err := seal.ReadKEKFile(c.Path)
	if errors.Is(err, fs.ErrNotExist) {
		fp, bound, berr := db.KEKBound(ctx)
		switch {
		case berr != nil:
			return seal.Key{}, false, berr
		case bound:
			return seal.Key{}, false, &exitcode.Error{Code: exitcode.Usage,
				Err:  fmt.Errorf("the key-encryption key file %s does not exist, and this database's submissions are sealed with key %s", c.Path, fp),
				Hint: "give the file of that key: --kek-file FILE (or KSN_KEK_FILE); without it the sealed submissions cannot be read"}
		case !create || c.From != "":
			return seal.Key{}, false, &exitcode.Error{Code: exitcode.Usage,
				Err:  fmt.Errorf("the key-encryption key file %s (from %s) does not exist", c.Path, c.fromText()),
				Hint: "make one: ksn admin keygen --out " + c.Path}
		}
		if err = os.MkdirAll(filepath.Dir(c.Path), 0o700); err == nil {
			kek, err = seal.WriteKEKFile(c.Path)
		}
		if errors.Is(err, fs.ErrExist) { // another server made it a moment ago
			kek, insecure, err = seal.ReadKEKFile(c.Path)
		} else if err == nil {
			created = true
		}
	}
	if err != nil {
		return seal.Key{}, false, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("key-encryption key: %w", err)}
	}
	if insecure {
		warnf(warn, "the key-encryption key file %s can be read or written by other users; chmod 600 it", c.Path)
	}
	return kek, created, nil
}

// wrongKEK explains a key-encryption key the database refuses.
func wrongKEK(err error, c KEKSource, dbPath string) error {
	var me *store.KEKMismatchError
	if !errors.As(err, &me) {
		return err
	}
	return &exitcode.Error{Code: exitcode.Usage,
		Err: fmt.Errorf("the key-encryption key in %s is not the one the submissions of %s are sealed with (the database expects key %s, the file holds key %s); refusing to start rather than write records that key could not read",
			c.Path, dbPath, me.Want, me.Got),
		Hint: "give the key file the database was first started with: --kek-file FILE (or KSN_KEK_FILE)"}
}

// warnf passes a formatted warning to warn, when there is one to hear it.
func warnf(warn func(string), format string, args ...any) {
	if warn != nil {
		warn(fmt.Sprintf(format, args...))
	}
}
