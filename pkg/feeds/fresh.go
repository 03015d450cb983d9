package feeds

import (
	"errors"
	"io/fs"
	"os"

	"github.com/ksnproject/ksn/pkg/store"
)

// Fresh remembers whether the SQLite database an import names existed
// before it, so that an import that fails into a new database leaves no
// file behind: the user finds either no database or one holding what was
// imported, never an empty one made by a failure (issue 20).
type Fresh struct {
	path  string
	fresh bool
}

// NoteFresh looks at path before the database is opened. "" (the local
// database, which every command creates on first use) and a PostgreSQL
// URL are never fresh.
func NoteFresh(path string) Fresh {
	if path == "" || store.IsPostgresURL(path) {
		return Fresh{}
	}
	_, err := os.Lstat(path)
	return Fresh{path: path, fresh: errors.Is(err, fs.ErrNotExist)}
}

// Discard removes the database, with its -wal and -shm files, when it did
// not exist before; the caller has closed it. It does nothing otherwise.
func (f Fresh) Discard() error {
	if !f.fresh {
		return nil
	}
	var errs []error
	for _, suffix := range []string{"-wal", "-shm", ""} {
		if err := os.Remove(f.path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
