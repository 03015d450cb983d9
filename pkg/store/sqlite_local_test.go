package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ksnproject/ksn/pkg/reputation"
)

// TestOpenLocalReadOnly: an existing database is read as it is, and
// nothing is written to it or beside it; a missing one is an error.
func TestOpenLocalReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, DefaultFileName)
	l, err := OpenLocal(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
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
