package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/seal"
	"github.com/ksnproject/ksn/pkg/store"
)

// TestQueueWritesConcurrentSubmitters sends 1,000-record batches from 16
// goroutines at once into one SQLite file, as 16 clients of one server
// do: through the queue, none fails with a busy database, and every
// record is stored once.
func TestQueueWritesConcurrentSubmitters(t *testing.T) {
	ctx := context.Background()
	raw, err := store.OpenServerDatabase(ctx, filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	db := store.QueueWrites(raw)
	defer db.Close()
	if err := db.UnlockSubmissions(ctx, seal.Key{3}); err != nil {
		t.Fatal(err)
	}
	const senders, batch = 16, 1000
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			subs := make([]store.Submission, batch)
			for i := range subs {
				sum := sha256.Sum256([]byte(fmt.Sprint(s, i)))
				subs[i] = store.Submission{
					Record: api.Record{ID: fmt.Sprintf("%016x%016x", s+1, i), Kind: "file", CreatedAt: time.Now().UTC(),
						Body: json.RawMessage(fmt.Sprintf(`{"digests":{"sha256":"%x"},"size":1,"verdict":"unknown","hash_ms":1}`, sum))},
					File: &store.FileFacts{SHA256: sum, Size: 1, HashMS: 1},
				}
			}
			if a, _, err := db.StoreSubmissions(ctx, store.Sender{License: int64(s + 1), Seats: 1, Participant: fmt.Sprintf("%032x", s+1)}, subs, time.Now()); err != nil || a != batch {
				t.Errorf("sender %d: %d accepted, %v", s, a, err)
			}
		})
	}
	wg.Wait()
	st, err := db.Stats(ctx)
	if err != nil || st.Submissions != senders*batch {
		t.Errorf("%d records stored (%v), want %d", st.Submissions, err, senders*batch)
	}
	// A request that ended before its turn writes nothing.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := db.StoreSubmissions(done, store.Sender{License: 99, Seats: 1, Participant: fmt.Sprintf("%032x", 99)}, nil, time.Now()); err == nil {
		t.Error("a cancelled request was written")
	}
}

// TestWhenQueued: the caller's WhenQueued function runs once the batch has
// joined the writer's queue, before it is written, and exactly once, also
// when the batch fails.
func TestWhenQueued(t *testing.T) {
	ctx := context.Background()
	raw, err := store.OpenServerDatabase(ctx, filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	db := store.QueueWrites(raw)
	defer db.Close()
	if err := db.UnlockSubmissions(ctx, seal.Key{3}); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("queued"))
	sub := store.Submission{
		Record: api.Record{ID: fmt.Sprintf("%032x", 1), Kind: "file", CreatedAt: time.Now().UTC(),
			Body: json.RawMessage(fmt.Sprintf(`{"digests":{"sha256":"%x"},"size":1,"verdict":"unknown","hash_ms":1}`, sum))},
		File: &store.FileFacts{SHA256: sum, Size: 1, HashMS: 1},
	}
	from := store.Sender{License: 1, Seats: 1, Participant: fmt.Sprintf("%032x", 1)}
	calls := 0
	if a, _, err := db.StoreSubmissions(store.WhenQueued(ctx, func() { calls++ }), from, []store.Submission{sub}, time.Now()); err != nil || a != 1 || calls != 1 {
		t.Errorf("a stored batch: %d accepted, %v, queued called %d times", a, err, calls)
	}
	other := sub
	other.Record.Kind = "system"
	if _, _, err := db.StoreSubmissions(store.WhenQueued(ctx, func() { calls++ }), from, []store.Submission{other}, time.Now()); err == nil || calls != 2 {
		t.Errorf("a refused batch: %v, queued called %d times in all", err, calls)
	}
}
