package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/seal"
	"github.com/pressly/goose/v3"
)

func TestKEKBinding(t *testing.T) {
	ctx := context.Background()
	s, path := openServerTemp(t)
	if _, _, err := s.StoreSubmissions(ctx, sender(partA), []Submission{fileSub(recID(1), 1)}, time.Now()); !errors.Is(err, ErrNoKEK) {
		t.Errorf("store without a KEK: %v, want ErrNoKEK", err)
	}
	if _, ok, _ := s.KEKBound(ctx); ok {
		t.Error("a fresh database is bound")
	}
	other := seal.Key{9}
	if err := s.UseKEK(ctx, other); err != nil {
		t.Errorf("UseKEK on an unbound database: %v", err)
	}
	if _, ok, _ := s.KEKBound(ctx); ok {
		t.Error("UseKEK bound the database")
	}
	if err := s.UnlockSubmissions(ctx, testKEK); err != nil {
		t.Fatal(err)
	}
	store(t, s, partA, time.Now(), fileSub(recID(1), 1))
	fp, ok, err := s.KEKBound(ctx)
	if err != nil || !ok || fp != seal.Fingerprint(seal.CheckValue(testKEK)) {
		t.Errorf("KEKBound = %q, %v, %v", fp, ok, err)
	}

	s2, err := OpenServer(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for name, f := range map[string]func(context.Context, seal.Key) error{"UnlockSubmissions": s2.UnlockSubmissions, "UseKEK": s2.UseKEK} {
		err := f(ctx, other)
		var me *KEKMismatchError
		if !errors.Is(err, ErrWrongKEK) || !errors.As(err, &me) || me.Want != fp || me.Got == fp {
			t.Errorf("%s with another KEK: %v", name, err)
		}
	}
	if _, _, err := s2.StoreSubmissions(ctx, sender(partA), []Submission{fileSub(recID(2), 2)}, time.Now()); !errors.Is(err, ErrNoKEK) {
		t.Errorf("a refused KEK still stores: %v", err)
	}
	if err := s2.UnlockSubmissions(ctx, testKEK); err != nil {
		t.Fatal(err)
	}
	store(t, s2, partA, time.Now(), fileSub(recID(2), 2))
	if got := readAll(t, s2); len(got) != 1 {
		t.Errorf("records %v", got)
	}
	counts, err := s2.VerifySealed(ctx)
	if err != nil || len(counts) != 1 || counts[0].Records != 2 || counts[0].Opened != 2 || !counts[0].HasKey {
		t.Errorf("VerifySealed = %+v, %v", counts, err)
	}
	// A sealed value moved to another row does not open.
	if _, err := s2.DB().Exec(`UPDATE sealed_submissions SET sealed = (SELECT sealed FROM sealed_submissions WHERE id = ?) WHERE id = ?`,
		mustID(recID(1)), mustID(recID(2))); err != nil {
		t.Fatal(err)
	}
	if err := s2.ReadSubmissions(ctx, func(string, api.Record) error { return nil }); !errors.Is(err, seal.ErrOpen) {
		t.Errorf("a swapped record opened: %v", err)
	}
	if counts, err := s2.VerifySealed(ctx); err != nil || counts[0].Opened != 1 {
		t.Errorf("VerifySealed after the swap = %+v, %v", counts, err)
	}
}

// TestLostDataKeyIsNotReplaced: when a half-year's key file is gone
// without a purge (a lost or wrong key directory), the next submission fails
// instead of sealing under a new key beside records nobody can open.
func TestLostDataKeyIsNotReplaced(t *testing.T) {
	ctx := context.Background()
	s := openSealed(t)
	at := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	if _, _, err := s.StoreSubmissions(ctx, sender(partA), []Submission{fileSub(recID(1), 1)}, at); err != nil {
		t.Fatal(err)
	}
	keys := seal.KeyDir{Path: s.Path() + ".keys"}
	if err := keys.Destroy("2026H2"); err != nil {
		t.Fatal(err)
	}
	s.sealing.mu.Lock()
	s.sealing.cur = nil // as after a restart
	s.sealing.mu.Unlock()
	_, _, err := s.StoreSubmissions(ctx, sender(partA), []Submission{fileSub(recID(2), 2)}, at)
	if !errors.Is(err, ErrKeyMissing) {
		t.Fatalf("StoreSubmissions after the key row was lost: %v, want ErrKeyMissing", err)
	}
	if labels, err := keys.Labels(); err != nil || len(labels) != 0 {
		t.Fatalf("keys %v (%v): a new one was made", labels, err)
	}
}

// TestMigrationShredsPlaintextSubmissions: a database of an earlier
// version held submissions in plaintext; the migration deletes them with
// secure_delete, so that after a checkpoint no byte of them is in the file.
func TestMigrationShredsPlaintextSubmissions(t *testing.T) {
	ctx := context.Background()
	s, path := openServerTemp(t)
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.DB(), fsys, goose.WithDisableGlobalRegistry(true), goose.WithLogger(goose.NopLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		body := fmt.Sprintf(`{"url":"https://legacy-secret-host.example/p%d","verdict":"unknown","check_ms":1}`, i)
		if _, err := s.DB().Exec(`INSERT INTO submissions (id, kind, created_at, received_at, body) VALUES (?, 'url', 1, 1, ?)`,
			mustID(recID(i)), []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DB().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte("legacy-secret-host")) {
		t.Fatal("the plaintext rows are not in the file to begin with")
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal"} {
		if b, _ := os.ReadFile(f); bytes.Contains(b, []byte("legacy-secret-host")) {
			t.Errorf("%s still holds plaintext submissions", filepath.Base(f))
		}
	}
}
