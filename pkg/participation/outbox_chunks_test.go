package participation

import (
	"context"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// The chunked outbox against a model (a slice in the order created_at,
// then arrival): appends large and small, in and out of order, eviction,
// dropping old records and deleting, across chunk boundaries.
func TestOutboxChunksModel(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var model []Record
	var droppedFull, droppedAge int64
	n := 0
	newRecs := func(k int, base time.Duration, spread int) []Record {
		recs := make([]Record, k)
		for i := range recs {
			r, err := NewRecord(KindFile, map[string]int{"n": n}, testEpoch.Add(base+time.Duration(rng.IntN(spread))*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			n++
			recs[i] = r
		}
		return recs
	}
	insert := func(recs []Record) {
		for _, r := range recs {
			// After every record created at or before r.
			i := len(model)
			for i > 0 && model[i-1].CreatedAt.After(r.CreatedAt) {
				i--
			}
			model = slices.Insert(model, i, r)
		}
	}
	check := func(step string) {
		t.Helper()
		got := all(t, s)
		if len(got) != len(model) {
			t.Fatalf("%s: %d records, want %d", step, len(got), len(model))
		}
		var size int64
		for i := range model {
			if !sameRecord(got[i], model[i]) {
				t.Fatalf("%s: record %d = %s %v, want %s %v", step, i, got[i].Body, got[i].CreatedAt, model[i].Body, model[i].CreatedAt)
			}
			size += int64(len(model[i].Body))
		}
		st := stats(t, s)
		want := OutboxStats{Records: len(model), Bytes: size, DroppedFull: droppedFull, DroppedAge: droppedAge}
		if len(model) > 0 {
			want.Oldest, want.Newest = model[0].CreatedAt, model[len(model)-1].CreatedAt
		}
		if !reflect.DeepEqual(st, want) {
			t.Fatalf("%s: Stats = %+v, want %+v", step, st, want)
		}
	}
	clock := time.Duration(0)
	for step := range 60 {
		name := ""
		switch op := rng.IntN(6); {
		case op <= 1: // a big append, in order, newer than all
			clock += time.Hour
			recs := newRecs(rng.IntN(9000)+1, clock, 3000)
			slices.SortStableFunc(recs, func(a, b Record) int { return a.CreatedAt.Compare(b.CreatedAt) })
			name = "append in order"
			lim := Limits{MaxRecords: rng.IntN(30000) + 1}
			insert(recs)
			wantEvicted := max(0, len(model)-lim.MaxRecords)
			model = model[wantEvicted:]
			droppedFull += int64(wantEvicted)
			if ev, err := s.Append(ctx, recs, lim); err != nil || ev != wantEvicted {
				t.Fatalf("step %d: Append = %d, %v; want %d", step, ev, err, wantEvicted)
			}
		case op == 2: // a small or big append, out of order, among the stored ones
			recs := newRecs(rng.IntN(3)*rng.IntN(3000)+1, clock/2, int(clock/time.Second/2)+1)
			name = "append out of order"
			insert(recs)
			if _, err := s.Append(ctx, recs, Limits{}); err != nil {
				t.Fatal(err)
			}
		case op == 3: // deliver: delete some of the oldest, and unknown ones
			name = "delete"
			k := min(len(model), rng.IntN(1500))
			var ids []string
			for _, r := range model[:k] {
				if rng.IntN(4) > 0 {
					ids = append(ids, r.ID)
				}
			}
			ids = append(ids, "0123456789abcdef0123456789abcdef")
			model = slices.DeleteFunc(model, func(r Record) bool { return slices.Contains(ids, r.ID) })
			if err := s.Delete(ctx, ids); err != nil {
				t.Fatal(err)
			}
		case op == 4: // drop old records
			name = "drop older"
			cutoff := testEpoch.Add(time.Duration(rng.Int64N(int64(clock) + 1)))
			before := len(model)
			model = slices.DeleteFunc(model, func(r Record) bool { return r.CreatedAt.Before(cutoff) })
			droppedAge += int64(before - len(model))
			if got, err := s.DropOlderThan(ctx, cutoff); err != nil || got != before-len(model) {
				t.Fatalf("step %d: DropOlderThan = %d, %v; want %d", step, got, err, before-len(model))
			}
		default: // Records stopped early, then the rest
			name = "records"
		}
		check(name)
	}
}
