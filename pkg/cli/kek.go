package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/seal"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/term"
)

// kekEnv names the key-encryption key file when --kek-file does not.
const kekEnv = "KSN_KEK_FILE"

// kekSuffix makes the default key-encryption key file of a database:
// server.db.kek beside server.db.
const kekSuffix = ".kek"

// kekChoice is where a command takes its key-encryption key from.
type kekChoice struct {
	path string
	from string // "--kek-file", "KSN_KEK_FILE" or "" (the default beside the database)
}

// chooseKEK decides the key-encryption key file: the flag, else the
// environment, else <database>.kek.
func chooseKEK(flag string, env func(string) string, dbPath string) kekChoice {
	if flag != "" {
		return kekChoice{path: flag, from: "--kek-file"}
	}
	if env != nil {
		if v := env(kekEnv); v != "" {
			return kekChoice{path: v, from: kekEnv}
		}
	}
	return kekChoice{path: dbPath + kekSuffix}
}

// loadKEK reads the chosen key-encryption key. With create, a missing
// default file is made, unless the database is already bound to a key
// (which a new file could not be); a file named by the flag or the
// environment is never made. created says whether it was.
func loadKEK(ctx context.Context, ios *term.IOStreams, db *store.Server, c kekChoice, create bool) (kek seal.Key, created bool, err error) {
	kek, insecure, err := seal.ReadKEKFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		fp, bound, berr := db.KEKBound(ctx)
		switch {
		case berr != nil:
			return seal.Key{}, false, berr
		case bound:
			return seal.Key{}, false, &exitcode.Error{Code: exitcode.Usage,
				Err:  fmt.Errorf("the key-encryption key file %s does not exist, and this database's submissions are sealed with key %s", c.path, fp),
				Hint: "give the file of that key: --kek-file FILE (or KSN_KEK_FILE); without it the sealed submissions cannot be read"}
		case !create || c.from != "":
			return seal.Key{}, false, &exitcode.Error{Code: exitcode.Usage,
				Err:  fmt.Errorf("the key-encryption key file %s (from %s) does not exist", c.path, orDefault(c.from)),
				Hint: "make one: ksn admin keygen --out " + c.path}
		}
		kek, err = seal.WriteKEKFile(c.path)
		if errors.Is(err, fs.ErrExist) { // another server made it a moment ago
			kek, insecure, err = seal.ReadKEKFile(c.path)
		} else if err == nil {
			created = true
		}
	}
	if err != nil {
		return seal.Key{}, false, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("key-encryption key: %w", err)}
	}
	if insecure {
		ios.Warnf("the key-encryption key file %s can be read or written by other users; chmod 600 it", c.path)
	}
	return kek, created, nil
}

func orDefault(from string) string {
	if from == "" {
		return "the default beside the database"
	}
	return from
}

// wrongKEK explains a key-encryption key the database refuses.
func wrongKEK(err error, c kekChoice, dbPath string) error {
	var me *store.KEKMismatchError
	if !errors.As(err, &me) {
		return err
	}
	return &exitcode.Error{Code: exitcode.Usage,
		Err: fmt.Errorf("the key-encryption key in %s is not the one the submissions of %s are sealed with (the database expects key %s, the file holds key %s); refusing to start rather than write records that key could not read",
			c.path, dbPath, me.Want, me.Got),
		Hint: "give the key file the database was first started with: --kek-file FILE (or KSN_KEK_FILE)"}
}
