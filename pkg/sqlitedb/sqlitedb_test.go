package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
)

var errNotOurs = errors.New("not ours")

// TestConcurrentFirstOpen opens one fresh file from several handles at once;
// every one must succeed and each migration must be applied exactly once.
func TestConcurrentFirstOpen(t *testing.T) {
	migrations := fstest.MapFS{
		"00001_init.sql": {Data: []byte(`-- +goose Up
CREATE UNIQUE INDEX goose_db_version_once ON goose_db_version (version_id);
PRAGMA application_id = 1234;
CREATE TABLE t (x INTEGER);
`)},
		"00002_more.sql": {Data: []byte(`-- +goose Up
INSERT INTO t VALUES (1);
`)},
	}
	path := filepath.Join(t.TempDir(), "x.db")
	d := DSN(path, []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", BusyTimeout.Milliseconds()),
		"_txlock=immediate",
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			db, err := sql.Open("sqlite", d)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			if err := CheckApplication(ctx, db, 1234, errNotOurs); err != nil {
				errs <- err
				return
			}
			if err := EnableWAL(ctx, db); err != nil {
				errs <- err
				return
			}
			errs <- Migrate(ctx, db, migrations)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", d)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows in t = %d, %v; want 1 (second migration applied once)", n, err)
	}
	if err := CheckApplication(ctx, db, 99, errNotOurs); !errors.Is(err, errNotOurs) {
		t.Fatalf("CheckApplication with a foreign id = %v, want %v", err, errNotOurs)
	}
}
