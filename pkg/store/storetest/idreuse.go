package storetest

import (
	"encoding/json"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/store"
)

// testIDReused: an id stored before comes back as a duplicate only with
// the same record (however its JSON is spaced or its time zone spelt);
// with another body, kind or time the whole batch is refused and nothing
// of it is stored or counted, in the same half-year and the next.
func testIDReused(t *testing.T, e *env) {
	db := unlocked(t, e.db)
	h1 := time.Date(2026, 6, 30, 23, 0, 0, 0, time.UTC)
	store1(t, db, participant(0), h1, fileSub(1, "a"))

	same := fileSub(1, "a")
	same.Record.Body = append([]byte("  { "), same.Record.Body[1:]...)
	same.Record.CreatedAt = same.Record.CreatedAt.In(time.FixedZone("CEST", 2*3600))
	if a, d := store1(t, db, participant(0), h1, same); a != 0 || d != 1 {
		t.Fatalf("the same record respaced: %d accepted, %d duplicates; want a duplicate", a, d)
	}
	other := fileSub(1, "b") // another file under the same id
	later := fileSub(1, "a")
	later.Record.CreatedAt = later.Record.CreatedAt.Add(time.Nanosecond)
	system := systemSub(1)
	before := aggregatesJSON(t, db)
	for name, at := range map[string]time.Time{"same half-year": h1, "next half-year": h1.Add(2 * time.Hour)} {
		for what, sub := range map[string]store.Submission{"body": other, "created_at": later, "kind": system} {
			_, _, err := db.StoreSubmissions(ctx, participant(1), []store.Submission{fileSub(2, "fresh"), sub}, at)
			var ie *store.IDReusedError
			if !errors.Is(err, store.ErrIDReused) || !errors.As(err, &ie) || ie.Index != 1 || ie.ID != recordID(1) {
				t.Errorf("%s, other %s: %v; want record 1 refused as a reused id", name, what, err)
			}
		}
	}
	if n := submissions(t, db); n != 1 {
		t.Errorf("refused batches stored records: %d", n)
	}
	if after := aggregatesJSON(t, db); after != before {
		t.Errorf("refused batches changed the aggregates:\n%s\n%s", before, after)
	}
	// Within one batch too.
	if _, _, err := db.StoreSubmissions(ctx, participant(0), []store.Submission{fileSub(3, "c"), fileSub(3, "d")}, h1); !errors.Is(err, store.ErrIDReused) {
		t.Errorf("an id twice in a batch with two bodies: %v", err)
	}
	if a, d := store1(t, db, participant(0), h1, fileSub(3, "c"), fileSub(3, "c")); a != 1 || d != 1 {
		t.Errorf("an id twice in a batch with one body: %d, %d", a, d)
	}
	// Records stored before digests were kept count as the same.
	e.b.Exec(t, db, `UPDATE sealed_submissions SET digest = NULL`)
	if a, d := store1(t, db, participant(0), h1, other); a != 0 || d != 1 {
		t.Errorf("a record without a digest: %d, %d; want a duplicate", a, d)
	}
}

// testConcurrentIDReuse: one id with two bodies, sent at the same moment
// (through two replicas): one is stored, the other refused.
func testConcurrentIDReuse(t *testing.T, db store.ServerDatabase) {
	unlocked(t, db)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for round := range 5 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		stored, refused := 0, 0
		for g := range 2 {
			wg.Go(func() {
				a, _, err := db.StoreSubmissions(ctx, participant(g), []store.Submission{fileSub(100+round, string(rune('p'+g)))}, at)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.Is(err, store.ErrIDReused):
					refused++
				case err != nil:
					t.Error(err)
				default:
					stored += a
				}
			})
		}
		wg.Wait()
		if stored != 1 || refused != 1 {
			t.Errorf("round %d: %d stored, %d refused; want 1 and 1", round, stored, refused)
		}
	}
}

// testBoundedFacts: times out of range never reach the aggregates, which
// stay finite (and JSON) even when a sum was made infinite by hand.
func testBoundedFacts(t *testing.T, e *env) {
	db := unlocked(t, e.db)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, ms := range []float64{1e308, -1, math.NaN(), math.Inf(1), store.MaxScanMS * 2} {
		sub := fileSub(1, "a")
		sub.File.HashMS = ms
		if _, _, err := db.StoreSubmissions(ctx, participant(0), []store.Submission{sub}, at); !errors.Is(err, store.ErrBadFacts) {
			t.Errorf("hash_ms %g: %v, want ErrBadFacts", ms, err)
		}
		u := urlSub(2, "example.com/x")
		u.URL.CheckMS = ms
		if _, _, err := db.StoreSubmissions(ctx, participant(0), []store.Submission{u}, at); !errors.Is(err, store.ErrBadFacts) {
			t.Errorf("check_ms %g: %v, want ErrBadFacts", ms, err)
		}
	}
	bad := fileSub(3, "c")
	bad.File.Size = -5
	if _, _, err := db.StoreSubmissions(ctx, participant(0), []store.Submission{bad}, at); !errors.Is(err, store.ErrBadFacts) {
		t.Errorf("a negative size: %v", err)
	}
	big := fileSub(4, "d")
	big.File.HashMS = store.MaxScanMS
	store1(t, db, participant(0), at, big, fileSub(5, "e"))
	e.b.Exec(t, db, `UPDATE scan_time_classes SET total_ms = ?`, math.Inf(1))
	agg, err := db.Aggregates(ctx, store.AggregateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range agg.ScanTime {
		for _, v := range []float64{st.MeanMS, st.P50MS, st.P90MS, st.P99MS} {
			if math.IsInf(v, 0) || math.IsNaN(v) || v < 0 {
				t.Errorf("%s: %+v", st.Class, st)
			}
		}
	}
	if _, err := json.Marshal(agg); err != nil {
		t.Errorf("the aggregates do not marshal: %v", err)
	}
}

// aggregatesJSON is every aggregate, for comparing before and after.
func aggregatesJSON(t *testing.T, db store.ServerDatabase) string {
	t.Helper()
	agg, err := db.Aggregates(ctx, store.AggregateOptions{Top: 100})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(agg)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
