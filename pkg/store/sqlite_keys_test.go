package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/seal"
)

// copyFiles copies the database's file and its -wal (as a file-level
// backup does, with whatever the WAL holds) to a new directory, and
// returns the copy's path.
func copyFiles(t *testing.T, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "backup.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestBackupAfterPurge: "cleared twice a year" holds for backups. A copy
// of the database (with its WAL) taken before a purge, opened after it
// with the key-encryption key and every data key that still exists,
// opens no record of the purged half-year, and every record of the next.
// The per-object aggregates of objects too few participants reported go
// with the half-year; the others stay.
func TestBackupAfterPurge(t *testing.T) {
	ctx := context.Background()
	s, path := openServerTemp(t)
	keys := seal.KeyDir{Path: filepath.Join(t.TempDir(), "keys")}
	if _, err := s.UseDataKeys(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if err := s.UnlockSubmissions(ctx, testKEK); err != nil {
		t.Fatal(err)
	}
	may := time.Date(2026, 5, 10, 9, 0, 0, 0, time.UTC)
	aug := time.Date(2026, 8, 10, 9, 0, 0, 0, time.UTC)
	// File 1: three participants in H1. File 2: one, in H1. File 3: one
	// in H1, one in H2. Link: one, in H1.
	store(t, s, partA, may, fileSub(recID(1), 1), fileSub(recID(2), 2), fileSub(recID(3), 3), urlSub(recID(4), "https://example.com/a/"))
	store(t, s, partB, may, fileSub(recID(5), 1))
	store(t, s, partC, may, fileSub(recID(6), 1))
	store(t, s, partB, aug, fileSub(recID(7), 3))

	backup := copyFiles(t, path)
	h1Rows := func() (n int) {
		t.Helper()
		if err := s.DB().QueryRow(`SELECT (SELECT count(*) FROM license_seats WHERE half_year = '2026H1')
			+ (SELECT count(*) FROM seated_codes WHERE half_year = '2026H1')
			+ (SELECT count(*) FROM submission_participants WHERE half_year = '2026H1')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if h1Rows() == 0 {
		t.Fatal("no seat or participant rows to purge")
	}
	res, err := s.Purge(ctx, PurgeOptions{Now: aug, Grace: 7 * 24 * time.Hour, MinParticipants: 3})
	if err != nil || len(res.Purged) != 1 || res.Purged[0].Records != 6 || res.Purged[0].ObjectRows != 2 || !res.Checkpointed {
		t.Fatalf("purge: %+v, %v", res, err)
	}

	if n := h1Rows(); n != 0 {
		t.Errorf("%d seat and participant rows of 2026H1 left", n)
	}

	b, err := OpenServer(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.UseDataKeys(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if err := b.UseKEK(ctx, testKEK); err != nil {
		t.Fatal(err)
	}
	counts, err := b.VerifySealed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	opened := map[string][2]int64{}
	for _, c := range counts {
		opened[c.HalfYear] = [2]int64{c.Records, c.Opened}
	}
	if opened["2026H1"] != [2]int64{6, 0} || opened["2026H2"] != [2]int64{1, 1} {
		t.Errorf("the backup opens %v (records, opened); want none of 2026H1's 6, 2026H2's one", opened)
	}

	st, err := s.ObjectStats(ctx, ObjectFile, [][]byte{digestOf(1), digestOf(2), digestOf(3)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st[string(digestOf(2))]; ok || st[string(digestOf(1))].Participants != 3 || st[string(digestOf(3))].Participants != 2 {
		t.Errorf("after the purge: %+v; want file 2 (one participant) gone, 1 and 3 (reported in 2026H2) kept", st)
	}
	agg, err := s.Aggregates(ctx, AggregateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if agg.Objects[ObjectURL] != 0 || agg.Objects[ObjectFile] != 2 || agg.Kinds["file"] != 6 || agg.Kinds["url"] != 1 {
		t.Errorf("aggregates %+v: per-object rows of single participants go, the counts of records stay", agg)
	}
	// At the next half-year's purge, file 3 (two participants) goes too.
	res, err = s.Purge(ctx, PurgeOptions{Now: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), MinParticipants: 3})
	if err != nil || len(res.Purged) != 1 || res.Purged[0].ObjectRows != 1 {
		t.Fatalf("second purge: %+v, %v", res, err)
	}
}

// TestKeysMovedOutOfDatabase: a database of an earlier version kept its
// wrapped data keys in the submission_keys table. Given a key directory,
// it moves them there, and no byte of them is left in its files; what
// they sealed still opens.
func TestKeysMovedOutOfDatabase(t *testing.T) {
	ctx := context.Background()
	s, path := openServerTemp(t)
	old := seal.KeyDir{Path: filepath.Join(t.TempDir(), "old")}
	if _, err := s.UseDataKeys(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := s.UnlockSubmissions(ctx, testKEK); err != nil {
		t.Fatal(err)
	}
	store(t, s, partA, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), fileSub(recID(1), 1), fileSub(recID(2), 2))
	wrapped, err := old.Load("2026H1")
	if err != nil {
		t.Fatal(err)
	}
	// As the earlier version left it: the key in the table, no file.
	if _, err := s.DB().Exec(`INSERT INTO submission_keys (half_year, wrapped, created_at) VALUES ('2026H1', ?, 1)`, wrapped); err != nil {
		t.Fatal(err)
	}
	if err := old.Destroy("2026H1"); err != nil {
		t.Fatal(err)
	}

	keys := seal.KeyDir{Path: filepath.Join(t.TempDir(), "keys")}
	if moved, err := s.UseDataKeys(ctx, keys); err != nil || moved != 1 {
		t.Fatalf("moved %d, %v", moved, err)
	}
	if got, err := keys.Load("2026H1"); err != nil || !bytes.Equal(got, wrapped) {
		t.Fatalf("the moved key: %x, %v", got, err)
	}
	if n := countRows(t, s, "submission_keys"); n != 0 {
		t.Errorf("%d key rows left", n)
	}
	for _, f := range []string{path, path + "-wal"} {
		if b, _ := os.ReadFile(f); bytes.Contains(b, wrapped[seal.NonceSize:]) {
			t.Errorf("%s still holds the key's bytes", filepath.Base(f))
		}
	}
	if counts, err := s.VerifySealed(ctx); err != nil || len(counts) != 1 || counts[0].Opened != 2 {
		t.Errorf("after the move: %+v, %v", counts, err)
	}
	if moved, err := s.UseDataKeys(ctx, keys); err != nil || moved != 0 {
		t.Errorf("again: moved %d, %v", moved, err)
	}

	// A directory that holds another key for the half-year is not
	// trusted with this database's.
	if _, err := s.DB().Exec(`INSERT INTO submission_keys (half_year, wrapped, created_at) VALUES ('2026H1', x'00', 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseDataKeys(ctx, keys); err == nil {
		t.Error("a clashing key directory was accepted")
	}
	if n := countRows(t, s, "submission_keys"); n != 1 {
		t.Errorf("the clashing row was deleted")
	}
}

// TestPurgeRetriesCheckpoint: while a reader holds an old snapshot the
// purge cannot empty the WAL, and says so; the next purge, with nothing
// left to destroy, completes it.
func TestPurgeRetriesCheckpoint(t *testing.T) {
	ctx := context.Background()
	s, path := openServerTemp(t)
	if err := s.UnlockSubmissions(ctx, testKEK); err != nil {
		t.Fatal(err)
	}
	store(t, s, partA, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), fileSub(recID(1), 1))
	reader, err := OpenServer(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	tx, err := reader.DB().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM sealed_submissions`).Scan(&n); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	now := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	res, err := s.Purge(ctx, PurgeOptions{Now: now})
	if err != nil || len(res.Purged) != 1 || res.Checkpointed {
		t.Fatalf("purge beside a reader: %+v, %v; want it purged but not checkpointed", res, err)
	}
	tx.Rollback()
	res, err = s.Purge(ctx, PurgeOptions{Now: now})
	if err != nil || len(res.Purged) != 0 || !res.Checkpointed {
		t.Fatalf("after the reader left: %+v, %v; want the checkpoint done", res, err)
	}
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() != 0 {
		t.Errorf("the WAL holds %d bytes", st.Size())
	}
}
