package store

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"
)

func TestScanTimeHistogram(t *testing.T) {
	if ScanBucket(0) != 0 || ScanBucket(0.0009) != 0 || ScanBucket(math.NaN()) != 0 || ScanBucket(-1) != 0 {
		t.Error("times under 1 µs are not bucket 0")
	}
	if ScanBucket(1e12) != maxBucket || ScanBucket(math.Inf(1)) != maxBucket {
		t.Error("huge times are not in the last bucket")
	}
	for _, ms := range []float64{0.001, 0.0123, 0.5, 1, 3.7, 100, 12345.6} {
		b := ScanBucket(ms)
		if lo, hi := bucketStart(b), bucketStart(b+1); ms < lo*(1-1e-9) || ms >= hi {
			t.Errorf("%g ms in bucket %d = [%g, %g)", ms, b, lo, hi)
		}
		if v := bucketValue(b); math.Abs(v-ms)/ms > 0.19 {
			t.Errorf("%g ms is reported as %g", ms, v)
		}
	}
	// 100 times 1..100 ms: p50 ≈ 50, p90 ≈ 90, p99 ≈ 99, within a bucket.
	h := map[int]int64{}
	for i := 1; i <= 100; i++ {
		h[ScanBucket(float64(i))]++
	}
	for p, want := range map[float64]float64{0.5: 50, 0.9: 90, 0.99: 99} {
		if got := percentile(h, p); math.Abs(got-want)/want > 0.19 {
			t.Errorf("p%g = %g, want about %g", p*100, got, want)
		}
	}
	if percentile(map[int]int64{}, 0.5) != 0 {
		t.Error("percentile of nothing")
	}
}

func TestClasses(t *testing.T) {
	for in, want := range map[string]string{
		"6.8.0-45-generic": "6.8", "23.4.0": "23.4", "10": "10", "10.": "10", "": "unknown", "abc": "other",
		"6.1.77-ksnuniquebuild42": "6.1", "5.15": "5.15", "12345678.1": "123456",
	} {
		if got := OSVersionClass(in); got != want {
			t.Errorf("OSVersionClass(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int]string{0: "unknown", 1: "1", 2: "2", 3: "3-4", 4: "3-4", 5: "5-8", 12: "9-16", 64: "33-64", 65: "65+"} {
		if got := CPUClass(in); got != want {
			t.Errorf("CPUClass(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int]string{0: "unknown", 1: "1", 8: "5-8", 31: "17-32", 256: "129-256", 1024: "257+"} {
		if got := MemoryClass(in); got != want {
			t.Errorf("MemoryClass(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{0: "<64KiB", 65535: "<64KiB", 65536: "<1MiB", 1 << 20: "<16MiB", 300 << 20: ">=256MiB"} {
		if got := SizeClass(in); got != want {
			t.Errorf("SizeClass(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestAggregatesReport(t *testing.T) {
	ctx := context.Background()
	s := openSealed(t)
	d1 := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	d2 := d1.AddDate(0, 0, 1)
	store(t, s, partA, d1, fileSub(recID(1), 1), fileSub(recID(2), 2), systemSub(recID(3), "6.8.1"))
	store(t, s, partB, d2, fileSub(recID(4), 2), urlSub(recID(5), "http://a.example/"))
	store(t, s, partC, d2, fileSub(recID(6), 2))
	agg, err := s.Aggregates(ctx, AggregateOptions{Days: 1, Top: 2})
	if err != nil {
		t.Fatal(err)
	}
	if agg.Kinds["file"] != 4 || agg.Kinds["url"] != 1 || agg.Kinds["system"] != 1 {
		t.Errorf("kinds %v", agg.Kinds)
	}
	if len(agg.Daily) != 2 || agg.Daily[0] != (DailyCount{"2026-10-02", "file", 2}) || agg.Daily[1] != (DailyCount{"2026-10-02", "url", 1}) {
		t.Errorf("daily (last day) %+v", agg.Daily)
	}
	if len(agg.TopObjects) != 2 || !bytes.Equal(agg.TopObjects[0].Object, digestOf(2)) || agg.TopObjects[0].Participants != 3 {
		t.Errorf("top %+v", agg.TopObjects)
	}
	if len(agg.ScanTime) != 2 || agg.ScanTime[0].Class != "<64KiB" || agg.ScanTime[0].Records != 4 || agg.ScanTime[1].Class != URLClass {
		t.Errorf("scan time %+v", agg.ScanTime)
	}
	if m := agg.ScanTime[0].MeanMS; math.Abs(m-0.175) > 1e-9 { // (0.1 + 0.2 × 3) / 4
		t.Errorf("mean %g", m)
	}
	all, _ := s.Aggregates(ctx, AggregateOptions{})
	if len(all.Daily) != 4 || all.TopObjects != nil {
		t.Errorf("all days %+v, top %+v", all.Daily, all.TopObjects)
	}
}
