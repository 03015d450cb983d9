package feeds

import (
	"os"
	"path/filepath"
	"testing"
)

// A database that did not exist is removed with its -wal and -shm; one
// that existed, the local one ("") and a PostgreSQL URL never are.
func TestFreshDiscard(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.db")
	fresh := NoteFresh(path)
	existing := filepath.Join(dir, "old.db")
	if err := os.WriteFile(existing, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := NoteFresh(existing)
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := fresh.Discard(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s: still there after Discard (%v)", p, err)
		}
	}
	if err := old.Discard(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(existing); err != nil {
		t.Errorf("an existing database was removed: %v", err)
	}
	for _, p := range []string{"", "postgres://ksn@localhost/ksn"} {
		if NoteFresh(p).fresh {
			t.Errorf("NoteFresh(%q) is fresh", p)
		}
	}
}
