package participation

import (
	"context"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// An outbox of the first schema, one row per record, moves into chunks:
// the same records, in the same order (created_at, then arrival), the same
// Stats; rows no version of ksn wrote are left behind.
func TestMigrateOutboxToChunks(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	s, err := Open(ctx, dir) // creates the file; then roll back to version 1
	if err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.db, sub,
		goose.WithDisableGlobalRegistry(true), goose.WithLogger(goose.NopLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// 9000 records (three chunks), appended in an order other than their
	// creation times', some created at the same moment, and negative
	// times.
	var want []Record
	for i := range 9000 {
		r, err := NewRecord(KindFile, map[string]int{"n": i}, testEpoch.Add(time.Duration(i/3-1000)*72*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if i < 3 { // before 1970: negative Unix nanoseconds
			r.CreatedAt = r.CreatedAt.AddDate(-60, 0, 0)
		}
		if i%7 == 0 {
			r.Kind = KindURL
		}
		if i == 4500 {
			r.Kind = KindSystem
		}
		want = append(want, r)
	}
	var size int64
	insert := func(r Record) {
		id, _ := hex.DecodeString(r.ID)
		if _, err := s.db.ExecContext(ctx, `INSERT INTO outbox (id, kind, created_at, body) VALUES (?, ?, ?, ?)`,
			id, string(r.Kind), r.CreatedAt.UnixNano(), []byte(r.Body)); err != nil {
			t.Fatal(err)
		}
	}
	for i := len(want) - 1; i >= 0; i -= 3 { // newest first, but arrival order among equal times
		for j := i - 2; j <= i; j++ {
			insert(want[j])
			size += int64(len(want[j].Body))
		}
	}
	// Rows no version of ksn wrote.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO outbox (id, kind, created_at, body) VALUES
		(x'00', 'file', 1, x'7b7d'), (x'000102030405060708090a0b0c0d0e0f', 'mail', 1, x'7b7d')`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkSchemaOnce(t, s)
	got := all(t, s)
	if len(got) != len(want) {
		t.Fatalf("%d records after the migration, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameRecord(got[i], want[i]) {
			t.Fatalf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	st := stats(t, s)
	if st.Records != len(want) || st.Bytes != size || !st.Oldest.Equal(want[0].CreatedAt) || !st.Newest.Equal(want[len(want)-1].CreatedAt) {
		t.Errorf("Stats = %+v", st)
	}
	var chunks int
	if err := s.db.QueryRow(`SELECT count(*) FROM outbox_chunks`).Scan(&chunks); err != nil {
		t.Fatal(err)
	}
	if chunks != 3 {
		t.Errorf("%d chunks, want 3", chunks)
	}
	var old sql.NullString
	if err := s.db.QueryRow(`SELECT name FROM sqlite_master WHERE name = 'outbox'`).Scan(&old); err != sql.ErrNoRows {
		t.Errorf("the old table is still there: %v, %v", old, err)
	}
	// And the outbox works on.
	if _, err := s.Append(ctx, []Record{record(t, 1, 0)}, Limits{MaxRecords: 10}); err != nil {
		t.Fatal(err)
	}
	if st := stats(t, s); st.Records != 10 || st.DroppedFull != int64(len(want)-9) {
		t.Errorf("after an Append: %+v", st)
	}
}
