package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/reputation"
)

// closedLocal makes a local database in a directory of its own, and
// closes it.
func closedLocal(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, DefaultFileName)
	l, err := OpenLocal(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	return dir, path
}

// TestOpenLocalReadOnly: an existing database is read as it is, and
// nothing is written to it or beside it; a missing one is an error.
func TestOpenLocalReadOnly(t *testing.T) {
	ctx := context.Background()
	dir, path := closedLocal(t)
	before, _ := os.ReadDir(dir)
	ro, err := OpenLocalReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if algs, err := ro.Algorithms(ctx); err != nil || len(algs) == 0 {
		t.Fatalf("Algorithms = %v, %v: the baseline should be readable", algs, err)
	}
	imp, err := ro.BeginImport(ctx, "feed")
	if err == nil {
		err = imp.Add(reputation.FileIndicator{})
		if err == nil {
			_, err = imp.Commit()
		}
	}
	if err == nil {
		t.Fatal("an import into a read-only database succeeded")
	}
	if after, _ := os.ReadDir(dir); len(after) != len(before) {
		t.Fatalf("files beside the database: %d before, %d after", len(before), len(after))
	}
	if _, err := OpenLocalReadOnly(ctx, filepath.Join(dir, "missing.db")); err == nil {
		t.Fatal("a missing database opened")
	}
	tmp, err := OpenLocalTemporary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tdir := filepath.Dir(tmp.Path())
	tmp.Close()
	if _, err := os.Stat(tdir); !os.IsNotExist(err) {
		t.Fatalf("temporary database left %s behind", tdir)
	}
}

// TestOpenLocalDegraded: an existing database is read as it is, none
// gives the baseline alone, and a file that is no reputation database
// stays an error.
func TestOpenLocalDegraded(t *testing.T) {
	ctx := context.Background()
	dir, path := closedLocal(t)
	cause := errors.New("permission denied")
	for _, c := range []struct {
		path, why string
		temporary bool
	}{
		{path, "reading it as it is", false},
		{filepath.Join(dir, "missing.db"), "using the built-in baseline alone", true},
		{"", "using the built-in baseline alone", true},
	} {
		db, why, err := OpenLocalDegraded(ctx, c.path, cause)
		if err != nil {
			t.Fatalf("%q: %v", c.path, err)
		}
		_, temporary := db.(*TemporaryLocal)
		if !strings.HasPrefix(why, c.why) || temporary != c.temporary {
			t.Errorf("%q: %q (temporary %v)", c.path, why, temporary)
		}
		db.Close()
	}
	notDB := fmt.Errorf("open: %w", ErrNotReputationDB)
	if _, _, err := OpenLocalDegraded(ctx, path, notDB); err != notDB {
		t.Errorf("another application's file: %v", err)
	}
}

// TestOpenImportDB: a path is a SQLite file opened as a local database,
// made when missing; a server's file takes imports too.
func TestOpenImportDB(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv, err := OpenServer(ctx, filepath.Join(dir, "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	for _, name := range []string{"new.db", "server.db"} {
		db, err := OpenImportDB(ctx, filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, ok := db.(*Local); !ok {
			t.Errorf("%s opened as %T", name, db)
		}
		db.Close()
	}
	other := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(other, []byte("not a database, not at all, but text long enough\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if db, err := OpenImportDB(ctx, other); !errors.Is(err, ErrNotReputationDB) || db != nil {
		t.Errorf("another file: %#v, %v", db, err)
	}
}
