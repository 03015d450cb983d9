package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/store/storetest"
)

// TestPostgresConcurrentOpen starts replicas on a fresh database at the
// same moment: every one opens it, and the schema is applied once.
func TestPostgresConcurrentOpen(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	const replicas = 4
	dbs := make([]*store.PostgresServer, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { dbs[i], errs[i] = store.OpenPostgresServer(ctx, dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	var applied, baseline int
	if err := dbs[0].Pool().QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if err := dbs[0].Pool().QueryRow(ctx, `SELECT count(*) FROM file_indicators WHERE source = 'baseline'`).Scan(&baseline); err != nil {
		t.Fatal(err)
	}
	if applied != 1 || baseline != 2 {
		t.Errorf("%d migrations recorded, %d baseline rows; want 1 and 2", applied, baseline)
	}
}

// TestPostgresPath keeps the password out of the name used in messages.
func TestPostgresPath(t *testing.T) {
	_, err := store.OpenPostgresServer(context.Background(), "postgres://u:secret@127.0.0.1:1/db?connect_timeout=1")
	if err == nil {
		t.Fatal("opened a server that is not there")
	}
	if got := err.Error(); strings.Contains(got, "secret") {
		t.Errorf("the error shows the password: %s", got)
	}
	if _, err := store.OpenPostgresServer(context.Background(), "postgres://u:secret@[bad"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("malformed URL: %v", err)
	}
}
