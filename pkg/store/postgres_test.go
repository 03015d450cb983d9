package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/seal"

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
	// Every migration once, however many replicas raced to apply them.
	files, err := filepath.Glob("migrations_pg/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations_pg: %v, %v", files, err)
	}
	if applied != len(files) || baseline != 2 {
		t.Errorf("%d migrations recorded, %d baseline rows; want %d and 2", applied, baseline, len(files))
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

// TestPostgresFirstBatchesOfAHalfYear stores the first batches of a
// half-year from two replicas at once, round after round: one data key is
// made, and no replica mistakes the other's fresh records for records
// whose key was lost.
func TestPostgresFirstBatchesOfAHalfYear(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	var replicas [2]*store.PostgresServer
	keys := seal.KeyDir{Path: filepath.Join(t.TempDir(), "keys")} // shared, as replicas must
	for i := range replicas {
		db, err := store.OpenPostgresServer(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.UseDataKeys(ctx, keys); err != nil {
			t.Fatal(err)
		}
		if err := db.UnlockSubmissions(ctx, seal.Key{9}); err != nil {
			t.Fatal(err)
		}
		replicas[i] = db
	}
	for round := range 10 {
		at := time.Date(2000+round, 2, 1, 0, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				sum := sha256.Sum256([]byte(fmt.Sprint(round, g)))
				sub := store.Submission{
					Record: api.Record{ID: fmt.Sprintf("%016x%016x", round+1, g+1), Kind: "file", CreatedAt: at,
						Body: json.RawMessage(fmt.Sprintf(`{"digests":{"sha256":"%x"},"size":1,"verdict":"unknown","hash_ms":1}`, sum))},
					File: &store.FileFacts{SHA256: sum, Size: 1, HashMS: 1},
				}
				if _, _, err := replicas[g%2].StoreSubmissions(ctx, store.Sender{License: int64(g + 1), Seats: 1, Participant: fmt.Sprintf("%032x", g+1)}, []store.Submission{sub}, at); err != nil {
					t.Errorf("round %d, submitter %d: %v", round, g, err)
				}
			})
		}
		wg.Wait()
	}
	counts, err := replicas[0].VerifySealed(ctx)
	if err != nil || len(counts) != 10 {
		t.Fatalf("VerifySealed: %+v, %v", counts, err)
	}
	for _, c := range counts {
		if c.Records != 8 || c.Opened != 8 {
			t.Errorf("%s: %d records, %d opened; want 8 and 8", c.HalfYear, c.Records, c.Opened)
		}
	}
}

// TestPostgresReplicasOwnKeyDirs: replicas that were not given one shared
// key directory never seal one half-year under two keys. At the first
// batches of a half-year, a replica whose directory made a key of its own
// fails once another replica's key is recorded; at start, a replica whose
// directory lacks a recorded key, or holds another, is refused.
func TestPostgresReplicasOwnKeyDirs(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	var replicas [2]*store.PostgresServer
	var dirs [2]seal.KeyDir
	for i := range replicas {
		db, err := store.OpenPostgresServer(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dirs[i] = seal.KeyDir{Path: filepath.Join(t.TempDir(), fmt.Sprint("keys", i))}
		if _, err := db.UseDataKeys(ctx, dirs[i]); err != nil {
			t.Fatal(err)
		}
		if err := db.UnlockSubmissions(ctx, seal.Key{9}); err != nil {
			t.Fatal(err)
		}
		replicas[i] = db
	}
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	var errs [2]error
	var wg sync.WaitGroup
	for i, db := range replicas {
		wg.Go(func() { _, _, errs[i] = db.StoreSubmissions(ctx, sender(i), []store.Submission{sub(i, at)}, at) })
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		// The loser is refused either way: its key lost the race to be
		// recorded (ErrForeignKey), or the winner's was recorded before it
		// looked and its directory lacks that key (ErrKeyMissing).
		if errors.Is(err, store.ErrForeignKey) || errors.Is(err, store.ErrKeyMissing) {
			failed++
		} else if err != nil {
			t.Error(err)
		}
	}
	if failed != 1 {
		t.Fatalf("two replicas with their own key directories: %v; want one refused (ErrForeignKey or ErrKeyMissing)", errs)
	}
	winner := 0
	if errs[0] != nil {
		winner = 1
	}
	for name, dir := range map[string]seal.KeyDir{"another key": dirs[1-winner], "no key": {Path: filepath.Join(t.TempDir(), "empty")}} {
		third, err := store.OpenPostgresServer(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer third.Close()
		if _, err := third.UseDataKeys(ctx, dir); !errors.Is(err, store.ErrForeignKey) && !errors.Is(err, store.ErrKeyMissing) {
			t.Errorf("a replica starting with %s: %v", name, err)
		}
	}
	if _, err := replicas[winner].UseDataKeys(ctx, dirs[winner]); err != nil {
		t.Errorf("the replica whose key is the database's: %v", err)
	}
}

func sender(n int) store.Sender {
	return store.Sender{License: int64(n + 1), Seats: 1, Participant: fmt.Sprintf("%032x", n+1)}
}

func sub(n int, at time.Time) store.Submission {
	sum := sha256.Sum256([]byte(fmt.Sprint("file", n)))
	return store.Submission{
		Record: api.Record{ID: fmt.Sprintf("%032x", n+1), Kind: "file", CreatedAt: at,
			Body: json.RawMessage(fmt.Sprintf(`{"digests":{"sha256":"%x"},"size":1,"verdict":"unknown","hash_ms":1}`, sum))},
		File: &store.FileFacts{SHA256: sum, Size: 1, HashMS: 1},
	}
}
