package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/seal"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/store/storetest"
)

// TestReplicasPurgeOnce starts the purge on two replicas (each with its
// own connections to one PostgreSQL database) at the same moment: one
// destroys the finished half-year, the other finds nothing left, and every
// record is purged once.
func TestReplicasPurgeOnce(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	kek := seal.Derive(seal.Key{7}, "replicas")
	var replicas [2]*store.PostgresServer
	keys := seal.KeyDir{Path: t.TempDir()} // shared, as replicas must
	for i := range replicas {
		db, err := store.OpenPostgresServer(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.UseDataKeys(ctx, keys); err != nil {
			t.Fatal(err)
		}
		if err := db.UnlockSubmissions(ctx, kek); err != nil {
			t.Fatal(err)
		}
		replicas[i] = db
	}
	const n = 500
	var subs []store.Submission
	for i := range n {
		sum := sha256.Sum256([]byte(fmt.Sprint(i)))
		subs = append(subs, store.Submission{
			Record: api.Record{ID: fmt.Sprintf("%032x", i+1), Kind: "file", CreatedAt: time.Now().UTC(),
				Body: json.RawMessage(fmt.Sprintf(`{"digests":{"sha256":"%x"},"size":1,"verdict":"unknown","hash_ms":1}`, sum))},
			File: &store.FileFacts{SHA256: sum, Size: 1, HashMS: 1},
		})
	}
	received := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, _, err := replicas[0].StoreSubmissions(ctx, store.Sender{License: 1, Seats: 1, Participant: fmt.Sprintf("%032x", 1)}, subs, received); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }
	var results [2]store.PurgeResult
	var wg sync.WaitGroup
	for i, db := range replicas {
		wg.Go(func() {
			res, err := (&Retention{Store: db, Grace: DefaultPurgeGrace, Now: now}).PurgeNow(ctx)
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	ran := 0
	for _, res := range results {
		if len(res.Purged) > 0 {
			ran++
			if res.Purged[0].Records != n {
				t.Errorf("the purge destroyed %d records, want %d", res.Purged[0].Records, n)
			}
		}
	}
	if ran != 1 {
		t.Errorf("the purge ran on %d replicas, want exactly 1: %+v", ran, results)
	}
	counts, err := replicas[1].SealedCounts(ctx)
	if err != nil || len(counts) != 0 {
		t.Errorf("sealed records left: %+v, %v", counts, err)
	}
}

// TestBacklogFitsTheSubmissionBudget delivers a 30,000-record backlog in
// full batches at once under the default limits: every batch is taken
// (the submission burst holds it), and the lookups' bucket is untouched.
func TestBacklogFitsTheSubmissionBudget(t *testing.T) {
	fx := newFixture(t, func(c *Config) { c.Rate, c.Burst, c.SubmitRate, c.SubmitBurst = 0, 0, 0, 0 })
	for b := range 30 {
		recs := make([]api.Record, api.MaxBatch)
		for i := range recs {
			recs[i] = api.Record{ID: fmt.Sprintf("%016x%016x", b+1, i), Kind: "file", CreatedAt: fx.clock.Now(), Body: json.RawMessage(fileBody)}
		}
		decodeJSON[api.SubmissionResult](t, fx.do("POST", api.PathSubmissions, fx.key, batchOf(recs...)), 202)
	}
	st := decodeJSON[api.Status](t, fx.do("GET", api.PathStatus, fx.key, nil), 200)
	if st.Limits.SubmitBurst < 30*api.MaxBatch {
		t.Errorf("the status announces a submission burst of %d", st.Limits.SubmitBurst)
	}
}
