package server

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

// TestLimiterPrecision offers a license three times its rate for T = 10 s
// of the server's (injected) clock, in batches of k items sent blindly
// every k/(3·rate) seconds, and counts what the handlers admit: at most
// rate·T + burst + k (a batch taken whole at the edge), and, as a refused
// request takes nothing from the bucket, at least rate·T + burst − k
// (the bucket never overflows for long unused). Lookups and submissions,
// each against its own bucket. KSN_LIMITER_SECONDS lengthens T.
func TestLimiterPrecision(t *testing.T) {
	seconds := 10
	if n, err := fmt.Sscan(os.Getenv("KSN_LIMITER_SECONDS"), &seconds); n != 1 || err != nil || seconds <= 0 {
		seconds = 10
	}
	const rate, burst, k = 10, 50, 6
	fx := newFixture(t, func(c *Config) { c.Rate = rate; c.Burst = burst; c.SubmitRate = rate; c.SubmitBurst = burst })
	T := time.Duration(seconds) * time.Second
	step := k * time.Second / (3 * rate) // 200 ms

	items := make([]map[string]string, k)
	for i := range items {
		items[i] = map[string]string{"sha256": eicarSHA256}
	}
	for _, kind := range []string{"lookups", "submissions"} {
		admitted, refused, next := 0, 0, 0
		start := fx.clock.Now()
		for elapsed := time.Duration(0); elapsed < T; elapsed += step {
			var status int
			if kind == "lookups" {
				status = fx.do("POST", api.PathLookupFiles, fx.key, lookup(items...)).Code
			} else {
				var recs []api.Record
				for range k {
					next++
					recs = append(recs, rec(fmt.Sprintf("%032x", next)))
				}
				status = fx.do("POST", api.PathSubmissions, fx.key, batchOf(recs...)).Code
			}
			switch status {
			case 200, 202:
				admitted += k
			case 429:
				refused += k
			default:
				t.Fatalf("%s: status %d", kind, status)
			}
			fx.clock.Add(step)
		}
		took := fx.clock.Now().Sub(start)
		capacity := float64(rate)*took.Seconds() + burst
		t.Logf("%s over %s at 3× %d/s (burst %d, batches of %d): %d admitted, %d refused; rate·T + burst = %.0f",
			kind, took, rate, burst, k, admitted, refused, capacity)
		if float64(admitted) > capacity+k {
			t.Errorf("%s: %d admitted, more than rate·T + burst + a batch = %.0f", kind, admitted, capacity+k)
		}
		if float64(admitted) < capacity-k {
			t.Errorf("%s: %d admitted, fewer than rate·T + burst − a batch = %.0f: refused more than the limit", kind, admitted, capacity-k)
		}
	}
}
