package server

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

func TestMetricsAndLogs(t *testing.T) {
	fx := newFixture(t, nil)
	fx.do("POST", api.PathLookupFiles, fx.key, lookup(map[string]string{"sha256": eicarSHA256}, map[string]string{"sha256": unknownSHA25}))
	fx.do("POST", api.PathSubmissions, fx.key, batchOf(rec(strings.Repeat("a", 32))))
	fx.do("POST", api.PathSubmissions, fx.key, batchOf(rec(strings.Repeat("a", 32))))
	fx.do("GET", api.PathStatus, "", nil)
	fx.do("GET", "/wp-admin/"+fx.key, "", nil)
	fx.do("POST", api.PathLookupFiles, fx.key, `{"items": "not a list"}`)
	fx.do(strings.Repeat("X", 4096), api.PathHealth, "", nil) // a method of the client's making

	w := fx.do("GET", api.PathMetrics, "", nil)
	if w.Code != 200 {
		t.Fatalf("metrics: %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`ksn_http_requests_total{code="200",endpoint="/v1/lookup/files"} 1`,
		`ksn_http_requests_total{code="202",endpoint="/v1/submissions"} 2`,
		`ksn_http_requests_total{code="401",endpoint="/v1/status"} 1`,
		`ksn_http_requests_total{code="404",endpoint="other"} 1`,
		`ksn_lookup_file_items_total{verdict="malicious"} 1`,
		`ksn_lookup_file_items_total{verdict="unknown"} 1`,
		`ksn_submission_records_total{result="accepted"} 1`,
		`ksn_submission_records_total{result="duplicate"} 1`,
		`ksn_http_request_duration_seconds_bucket{endpoint="/v1/lookup/files"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	logs := fx.logs.String()
	if strings.Contains(logs, fx.key) || strings.Contains(logs, "192.0.2.1") || strings.Contains(logs, "verdict") {
		t.Errorf("logs carry a key, an address or a body:\n%s", logs)
	}
	if strings.Contains(logs, "XXXX") || !strings.Contains(logs, "method=other") {
		t.Errorf("logs repeat an unknown method instead of 'other':\n%s", logs)
	}
	if !strings.Contains(logs, "status=400 duration=") || !strings.Contains(logs, "status=202") {
		t.Errorf("logs lack the statuses:\n%s", logs)
	}
	// Nothing answered is tied to its license, even in the log: not a
	// submission, nor the lookup that came before it from the same
	// client. A refusal names it, for the operator.
	for _, line := range strings.Split(logs, "\n") {
		refused := strings.Contains(line, "status=4")
		if named := strings.Contains(line, "license="); named != (refused && strings.Contains(line, "/v1/lookup")) {
			t.Errorf("license named %v in: %s", named, line)
		}
	}
}

// TestConcurrent runs lookups, submissions and status calls of several
// licenses at once (for the race detector), while the operator flips the
// restriction switch.
func TestConcurrent(t *testing.T) {
	fx := newFixture(t, func(c *Config) { c.Now = nil; c.Rate = 1e6; c.Burst = 1e6 })
	keys := []string{fx.key}
	for range 3 {
		k, _, err := fx.db.CreateLicense(context.Background(), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() {
			for j := range 20 {
				w := fx.do("POST", api.PathLookupFiles, k, lookup(map[string]string{"sha256": eicarSHA256}))
				if w.Code != 200 && w.Code != 503 {
					t.Errorf("lookup: %d %s", w.Code, w.Body)
				}
				w = fx.do("POST", api.PathSubmissions, k, batchOf(rec(fmt.Sprintf("%016x%016x", i, j))))
				if w.Code != 202 {
					t.Errorf("submission: %d %s", w.Code, w.Body)
				}
				fx.do("GET", api.PathStatus, k, nil)
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			_ = fx.db.SetRestriction(context.Background(), time.Now().Add(time.Minute))
			_ = fx.db.SetRestriction(context.Background(), time.Time{})
		}
	})
	wg.Wait()
	var n int
	if err := fx.db.DB().QueryRow(`SELECT count(*) FROM sealed_submissions`).Scan(&n); err != nil || n != 80 {
		t.Errorf("%d submissions stored (%v), want 80", n, err)
	}
}
