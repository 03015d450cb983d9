package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestIDReused: an id stored before comes back as a duplicate only with
// the same record (however its JSON is spaced or its time zone spelt);
// with another body, kind or time the whole batch is refused and nothing
// of it is stored or counted, in the same half-year and the next.
func TestIDReused(t *testing.T) {
	ctx := context.Background()
	s := openSealed(t)
	h1 := time.Date(2026, 6, 30, 23, 0, 0, 0, time.UTC)
	id := strings.Repeat("a", 32)
	store(t, s, partA, h1, fileSub(id, 1))

	same := fileSub(id, 1)
	var spaced []byte
	spaced = append(spaced, "  { "...)
	spaced = append(spaced, same.Record.Body[1:]...)
	same.Record.Body = json.RawMessage(spaced)
	same.Record.CreatedAt = same.Record.CreatedAt.In(time.FixedZone("CEST", 2*3600))
	if acc, dup, err := s.StoreSubmissions(ctx, sender(partA), []Submission{same}, h1); err != nil || acc != 0 || dup != 1 {
		t.Fatalf("the same record respaced: %d accepted, %d duplicates, %v; want a duplicate", acc, dup, err)
	}

	other := fileSub(id, 2) // another file under the same id
	later := fileSub(id, 1)
	later.Record.CreatedAt = later.Record.CreatedAt.Add(time.Nanosecond)
	system := systemSub(id, "6.8")
	before := snapshotAggregates(t, s)
	for name, at := range map[string]time.Time{"same half-year": h1, "next half-year": h1.Add(2 * time.Hour)} {
		for what, sub := range map[string]Submission{"body": other, "created_at": later, "kind": system} {
			fresh := fileSub(strings.Repeat("b", 32), 3)
			_, _, err := s.StoreSubmissions(ctx, sender(partB), []Submission{fresh, sub}, at)
			var e *IDReusedError
			if !errors.Is(err, ErrIDReused) || !errors.As(err, &e) || e.Index != 1 || e.ID != id {
				t.Errorf("%s, other %s: %v; want record 1 refused as a reused id", name, what, err)
			}
		}
	}
	if n := countRows(t, s, "sealed_submissions"); n != 1 {
		t.Errorf("refused batches stored records: %d rows", n)
	}
	if after := snapshotAggregates(t, s); string(after) != string(before) {
		t.Errorf("refused batches changed the aggregates")
	}

	// Within one batch too.
	x := strings.Repeat("c", 32)
	if _, _, err := s.StoreSubmissions(ctx, sender(partA), []Submission{fileSub(x, 4), fileSub(x, 5)}, h1); !errors.Is(err, ErrIDReused) {
		t.Errorf("an id twice in a batch with two bodies: %v", err)
	}
	if acc, dup, err := s.StoreSubmissions(ctx, sender(partA), []Submission{fileSub(x, 4), fileSub(x, 4)}, h1); err != nil || acc != 1 || dup != 1 {
		t.Errorf("an id twice in a batch with one body: %d, %d, %v", acc, dup, err)
	}

	// Records stored before digests were kept count as the same.
	if _, err := s.DB().Exec(`UPDATE sealed_submissions SET digest = NULL`); err != nil {
		t.Fatal(err)
	}
	if acc, dup, err := s.StoreSubmissions(ctx, sender(partA), []Submission{other}, h1); err != nil || acc != 0 || dup != 1 {
		t.Errorf("a record without a digest: %d, %d, %v; want a duplicate", acc, dup, err)
	}
}
