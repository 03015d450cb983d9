package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/store"
)

// TestSubmissionTurnEndsWhenQueued: on a database that writes in groups
// (store.QueueWrites), a submission gives back its turn to read bodies
// once its batch has queued, so the next body is read while the batch
// waits for the writer. Here the writer waits on a write lock the test
// holds, and Config.MaxDecoding is 1: the second body is read while the
// first batch is still unwritten, and the first batch is stored once the
// lock is let go.
func TestSubmissionTurnEndsWhenQueued(t *testing.T) {
	var queue store.ServerDatabase
	entered := make(chan struct{}, 2)
	fx := newFixture(t, func(c *Config) {
		c.MaxDecoding = 1
		queue = store.QueueWrites(c.Store.(*store.Server))
		c.Store = &enteringStore{queue, entered}
	})
	t.Cleanup(func() { queue.Close() })

	ctx := context.Background()
	lock, err := fx.db.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	locked := true
	unlock := func() {
		if locked {
			locked = false
			if _, err := lock.ExecContext(ctx, `ROLLBACK`); err != nil {
				t.Error(err)
			}
		}
	}
	defer unlock()

	first := make(chan int, 1)
	go func() {
		first <- fx.do("POST", api.PathSubmissions, fx.key, batchOf(rec(strings.Repeat("1", 32)))).Code
	}()

	// Only once the first body is read does the second start, so that it
	// cannot take the one turn first. It blocks once its head is read:
	// started says its turn came.
	<-entered
	body := `{"participant":"` + testParticipant + `","records":[{"id":"` + strings.Repeat("2", 32) +
		`","kind":"file","created_at":"2023-11-14T22:13:20Z","body":` + fileBody + `}`
	slow := &blockingBody{head: strings.NewReader(body), release: make(chan struct{}), started: make(chan struct{})}
	req := httptest.NewRequest("POST", api.PathSubmissions, slow)
	req.Header.Set("Authorization", "Bearer "+fx.key)
	second := make(chan int, 1)
	go func() {
		w := httptest.NewRecorder()
		fx.srv.ServeHTTP(w, req)
		second <- w.Code
	}()

	// Bounded below the busy timeout, after which the writer would give
	// up on the lock and the first request end anyway.
	select {
	case <-slow.started:
	case code := <-first:
		t.Fatalf("the first batch was answered (%d) before the second body was read", code)
	case <-time.After(8 * time.Second):
		t.Fatal("the second body was not read while the first batch waited for the writer")
	}
	select {
	case code := <-first:
		t.Fatalf("the first batch was answered (%d) while the database was locked", code)
	default:
	}
	unlock()
	if code := <-first; code != http.StatusAccepted {
		t.Errorf("the first batch: %d, want 202", code)
	}
	close(slow.release) // the body ends cut short: refused, not stored
	if code := <-second; code != http.StatusBadRequest {
		t.Errorf("the second, cut-short body: %d, want 400", code)
	}
	st, err := fx.db.Stats(ctx)
	if err != nil || st.Submissions != 1 {
		t.Errorf("%d records stored (%v), want the first batch's 1", st.Submissions, err)
	}
}

// enteringStore tells entered when a batch reaches StoreSubmissions: its
// body has been read.
type enteringStore struct {
	store.ServerDatabase
	entered chan<- struct{}
}

func (e *enteringStore) StoreSubmissions(ctx context.Context, from store.Sender, subs []store.Submission, at time.Time) (int, int, error) {
	e.entered <- struct{}{}
	return e.ServerDatabase.StoreSubmissions(ctx, from, subs, at)
}
