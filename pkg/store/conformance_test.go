package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/store/storetest"
)

// TestConformanceSQLite holds the SQLite server database to the suite.
func TestConformanceSQLite(t *testing.T) {
	var mu sync.Mutex
	paths := map[store.ServerDatabase]string{}
	open := func(t *testing.T, path string) store.ServerDatabase {
		db, err := store.OpenServerDatabase(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		mu.Lock()
		paths[db] = path
		mu.Unlock()
		return db
	}
	sqlDB := func(db store.ServerDatabase) *sql.DB { return db.(*store.Server).DB() }
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) store.ServerDatabase { return open(t, filepath.Join(t.TempDir(), "server.db")) },
		Reopen: func(t *testing.T, db store.ServerDatabase) store.ServerDatabase {
			mu.Lock()
			path := paths[db]
			mu.Unlock()
			return open(t, path)
		},
		Exec: func(t *testing.T, db store.ServerDatabase, q string, args ...any) {
			if _, err := sqlDB(db).Exec(q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		},
		Count: func(t *testing.T, db store.ServerDatabase, q string, args ...any) (n int) {
			if err := sqlDB(db).QueryRow(q, args...).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return n
		},
		HoldSnapshot: func(t *testing.T, db store.ServerDatabase) func() {
			mu.Lock()
			path := paths[db]
			mu.Unlock()
			reader, err := store.OpenServer(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			tx, err := reader.DB().BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := tx.QueryRow(`SELECT count(*) FROM sealed_submissions`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return func() { tx.Rollback(); reader.Close() }
		},
	})
}

// TestConformancePostgres holds the PostgreSQL server database to the
// same suite, each test in a schema of its own.
func TestConformancePostgres(t *testing.T) {
	storetest.PostgresDSN(t) // skips, or fails under CI, without a server
	var mu sync.Mutex
	dsns := map[store.ServerDatabase]string{}
	open := func(t *testing.T, dsn string) store.ServerDatabase {
		db, err := store.OpenServerDatabase(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		mu.Lock()
		dsns[db] = dsn
		mu.Unlock()
		return db
	}
	pool := func(db store.ServerDatabase) *store.PostgresServer { return db.(*store.PostgresServer) }
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) store.ServerDatabase { return open(t, storetest.PostgresDSN(t)) },
		Reopen: func(t *testing.T, db store.ServerDatabase) store.ServerDatabase {
			mu.Lock()
			dsn := dsns[db]
			mu.Unlock()
			return open(t, dsn)
		},
		Exec: func(t *testing.T, db store.ServerDatabase, q string, args ...any) {
			if _, err := pool(db).Pool().Exec(context.Background(), dollars(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		},
		Count: func(t *testing.T, db store.ServerDatabase, q string, args ...any) (n int) {
			if err := pool(db).Pool().QueryRow(context.Background(), dollars(q), args...).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return n
		},
		HoldSnapshot: func(t *testing.T, db store.ServerDatabase) func() {
			ctx := context.Background()
			conn, err := pool(db).Pool().Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tx, err := conn.Begin(ctx)
			if err == nil {
				_, err = tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`)
			}
			var n int
			if err == nil {
				err = tx.QueryRow(ctx, `SELECT count(*) FROM sealed_submissions`).Scan(&n)
			}
			if err != nil {
				t.Fatal(err)
			}
			return func() { tx.Rollback(ctx); conn.Release() }
		},
	})
}

// dollars numbers the ? placeholders of q as PostgreSQL's $1, $2, ...
func dollars(q string) string {
	var b strings.Builder
	n := 0
	for _, part := range strings.Split(q, "?") {
		if n > 0 {
			fmt.Fprintf(&b, "$%d", n)
		}
		b.WriteString(part)
		n++
	}
	return b.String()
}
