package store

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// TestScanTimesBounded: facts out of range never reach the aggregates,
// and a database poisoned before they were bounded (an infinite sum)
// still gives finite statistics that encoding/json can write.
func TestScanTimesBounded(t *testing.T) {
	ctx := context.Background()
	s := openSealed(t)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, ms := range []float64{1e308, -1, math.NaN(), math.Inf(1), MaxScanMS * 2} {
		sub := fileSub(strings.Repeat("a", 32), 1)
		sub.File.HashMS = ms
		if _, _, err := s.StoreSubmissions(ctx, sender(partA), []Submission{sub}, at); !errors.Is(err, ErrBadFacts) {
			t.Errorf("hash_ms %g: %v, want ErrBadFacts", ms, err)
		}
		u := urlSub(strings.Repeat("b", 32), "https://example.com/x")
		u.URL.CheckMS = ms
		if _, _, err := s.StoreSubmissions(ctx, sender(partA), []Submission{u}, at); !errors.Is(err, ErrBadFacts) {
			t.Errorf("check_ms %g: %v, want ErrBadFacts", ms, err)
		}
	}
	big := fileSub(strings.Repeat("c", 32), 2)
	big.File.HashMS = MaxScanMS
	store(t, s, partA, at, big, fileSub(strings.Repeat("d", 32), 3))

	// What an earlier version let in: a sum of +Inf.
	if _, err := s.DB().Exec(`UPDATE scan_time_classes SET total_ms = 1e308 * 10`); err != nil {
		t.Fatal(err)
	}
	agg, err := s.Aggregates(ctx, AggregateOptions{})
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
