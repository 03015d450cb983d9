package storetest

import (
	"bytes"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/seal"
	"github.com/ksnproject/ksn/pkg/store"
)

// testDatabaseID: a random id, made once, the same for every process that
// opens the database: the default places of its keys are named by it.
func testDatabaseID(t *testing.T, e *env) {
	id, err := e.db.DatabaseID(ctx)
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Fatalf("DatabaseID: %q, %v", id, err)
	}
	if again, err := e.db.DatabaseID(ctx); err != nil || again != id {
		t.Errorf("a second call: %q, %v; want %q", again, err, id)
	}
	if other, err := e.b.Reopen(t, e.db).DatabaseID(ctx); err != nil || other != id {
		t.Errorf("reopened: %q, %v; want %q", other, err, id)
	}
	if fresh, err := e.b.Open(t).DatabaseID(ctx); err != nil || fresh == id {
		t.Errorf("another database: %q, %v; want an id of its own", fresh, err)
	}
}

// testDataKeysOutside: a half-year's data key is a file of the key
// directory, never a row of the database: destroying the file leaves
// nothing that opens its records, and a process given an empty key
// directory refuses to seal under a new key beside them.
func testDataKeysOutside(t *testing.T, e *env) {
	db := unlocked(t, e.db)
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	store1(t, db, participant(0), at, fileSub(1, "a"), fileSub(2, "b"))
	if labels, err := e.keys.Labels(); err != nil || !slices.Equal(labels, []string{"2026H1"}) {
		t.Fatalf("key directory: %v, %v", labels, err)
	}
	if n := e.b.Count(t, db, `SELECT count(*) FROM submission_keys`); n != 0 {
		t.Errorf("%d data keys in the database", n)
	}

	other := e.b.Reopen(t, db)
	if err := other.UnlockSubmissions(ctx, kek); err != nil {
		t.Fatal(err)
	}
	empty := seal.KeyDir{Path: filepath.Join(t.TempDir(), "empty")}
	_, err := other.UseDataKeys(ctx, empty)
	if err == nil {
		_, _, err = other.StoreSubmissions(ctx, participant(0), []store.Submission{fileSub(3, "c")}, at)
	}
	if !errors.Is(err, store.ErrKeyMissing) {
		t.Errorf("a process with an empty key directory: %v, want ErrKeyMissing", err)
	}
	if labels, _ := empty.Labels(); len(labels) != 0 {
		t.Errorf("a second key was made: %v", labels)
	}

	if err := e.keys.Destroy("2026H1"); err != nil {
		t.Fatal(err)
	}
	counts, err := db.VerifySealed(ctx)
	if err != nil || len(counts) != 1 || counts[0].Records != 2 || counts[0].Opened != 0 || counts[0].HasKey {
		t.Errorf("VerifySealed without the key file: %+v, %v; want nothing opened", counts, err)
	}
}

// testDataKeysMovedOut: a database of an earlier version kept its wrapped
// data keys in submission_keys. Given a key directory, it moves them
// there (and from then on holds none), what they sealed still opens, and
// a directory holding another key of the half-year stops the move.
func testDataKeysMovedOut(t *testing.T, e *env) {
	db := unlocked(t, e.db)
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	store1(t, db, participant(0), at, fileSub(1, "a"), systemSub(2))
	wrapped, err := e.keys.Load("2026H1")
	if err != nil {
		t.Fatal(err)
	}
	legacy := func() {
		e.b.Exec(t, db, `INSERT INTO submission_keys (half_year, wrapped, created_at) VALUES (?, ?, ?)`, "2026H1", wrapped, int64(0))
	}
	legacy()
	if err := e.keys.Destroy("2026H1"); err != nil {
		t.Fatal(err)
	}

	// Another key of that half-year in the directory: the move stops.
	foreign := seal.KeyDir{Path: filepath.Join(t.TempDir(), "foreign")}
	if _, err := foreign.Create("2026H1", bytes.Repeat([]byte{7}, len(wrapped))); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Reopen(t, db).UseDataKeys(ctx, foreign); err == nil {
		t.Error("keys moved into a directory holding another key of the half-year")
	}

	moved := seal.KeyDir{Path: filepath.Join(t.TempDir(), "moved")}
	re := e.b.Reopen(t, db)
	if n, err := re.UseDataKeys(ctx, moved); err != nil || n != 1 {
		t.Fatalf("UseDataKeys: moved %d, %v; want 1", n, err)
	}
	if got, err := moved.Load("2026H1"); err != nil || !bytes.Equal(got, wrapped) {
		t.Errorf("the moved key: %x, %v", got, err)
	}
	if n := e.b.Count(t, re, `SELECT count(*) FROM submission_keys`); n != 0 {
		t.Errorf("%d keys left in the database", n)
	}
	if err := re.UseKEK(ctx, kek); err != nil {
		t.Fatal(err)
	}
	counts, err := re.VerifySealed(ctx)
	if err != nil || len(counts) != 1 || counts[0].Records != 2 || counts[0].Opened != 2 {
		t.Errorf("VerifySealed after the move: %+v, %v", counts, err)
	}
	if n, err := re.UseDataKeys(ctx, moved); err != nil || n != 0 {
		t.Errorf("a second UseDataKeys: moved %d, %v", n, err)
	}
}
