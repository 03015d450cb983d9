package participation

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// benchRecords is how many files one `ksn check` of a 20,000-file tree
// appends in one call.
const benchRecords = 20_000

// fileRecords returns n file records with realistic bodies (BLAKE3 and
// SHA-256 digests, size, verdict, time), created one millisecond apart
// from start.
func fileRecords(tb testing.TB, n int, start time.Time) []Record {
	tb.Helper()
	recs := make([]Record, n)
	for i := range recs {
		obs := FileObservation{
			Digests: map[string]string{
				"blake3": fmt.Sprintf("%064x", i),
				"sha256": fmt.Sprintf("%064x", i*7+1),
			},
			Size:    int64(1024 + i),
			Verdict: "unknown",
			HashMS:  0.25,
		}
		r, err := NewRecord(KindFile, obs, start.Add(time.Duration(i)*time.Millisecond))
		if err != nil {
			tb.Fatal(err)
		}
		recs[i] = r
	}
	return recs
}

// BenchmarkAppend appends 20,000 file records in one call to a fresh
// outbox, as `ksn check -r` of a 20,000-file tree does while the user does
// not participate. ns/record is the figure to watch (target: under ~3 µs);
// ns/record+close also counts Close, which checkpoints the -wal file into
// the database (a cost some later commit or Close pays in any case).
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	recs := fileRecords(b, benchRecords, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	var closing time.Duration
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		s, err := Open(ctx, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := s.Append(ctx, recs, Limits{MaxRecords: 100_000}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		t := time.Now()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		closing += time.Since(t)
		b.StartTimer()
	}
	n := float64(b.N * benchRecords)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
	b.ReportMetric(float64((b.Elapsed()+closing).Nanoseconds())/n, "ns/record+close")
}
