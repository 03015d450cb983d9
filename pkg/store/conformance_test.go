package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/store/storetest"
)

// TestConformanceSQLite holds the SQLite server database to the suite.
func TestConformanceSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.ServerDatabase {
		db, err := store.OpenServerDatabase(context.Background(), filepath.Join(t.TempDir(), "server.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestConformancePostgres holds the PostgreSQL server database to the
// same suite, each test in a schema of its own.
func TestConformancePostgres(t *testing.T) {
	storetest.PostgresDSN(t) // skips, or fails under CI, without a server
	storetest.Run(t, func(t *testing.T) store.ServerDatabase {
		db, err := store.OpenServerDatabase(context.Background(), storetest.PostgresDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
