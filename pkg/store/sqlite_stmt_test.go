package store

import (
	"database/sql"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ksnproject/ksn/pkg/sqlitedb"
)

// A statement is prepared once, on first use, by however many callers
// arrive together; one that cannot be prepared yet is tried again later
// rather than failing for the database's life.
func TestLazyStmt(t *testing.T) {
	db, err := sql.Open("sqlite", sqlitedb.DSN(filepath.Join(t.TempDir(), "t.db"), nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := &lazyStmt{query: "SELECT count(*) FROM later"}
	if _, err := l.get(db); err == nil {
		t.Fatal("prepared a statement on a table that does not exist")
	}
	if l.stmt.Load() != nil {
		t.Fatal("a failed preparation was kept")
	}
	if _, err := db.Exec("CREATE TABLE later (x)"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]*sql.Stmt, 8)
	for i := range got {
		wg.Go(func() {
			st, err := l.get(db)
			if err != nil {
				t.Error(err)
			}
			got[i] = st
		})
	}
	wg.Wait()
	for _, st := range got {
		if st == nil || st != got[0] {
			t.Fatalf("callers got different statements: %p", got)
		}
	}
	var n int
	if err := got[0].QueryRow().Scan(&n); err != nil || n != 0 {
		t.Fatalf("count = %d, %v", n, err)
	}
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	if err := (&lazyStmt{}).close(); err != nil {
		t.Fatalf("closing a statement never prepared: %v", err)
	}
}
