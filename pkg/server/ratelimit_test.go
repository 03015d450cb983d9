package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

func TestRateLimit(t *testing.T) {
	fx := newFixture(t, func(c *Config) { c.Rate = 2; c.Burst = 10; c.SubmitRate = 2; c.SubmitBurst = 10 })
	one := lookup(map[string]string{"sha256": eicarSHA256})
	var ten []map[string]string
	for range 10 {
		ten = append(ten, map[string]string{"sha256": eicarSHA256})
	}

	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, lookup(ten...)), 200)
	w := fx.do("POST", api.PathLookupFiles, fx.key, one)
	p := problemOf(t, w, 429, api.ProblemRateLimited)
	// The wait is that of a full batch (the whole bucket here): the server
	// refuses before it reads how many items the body holds.
	if w.Header().Get("Retry-After") != "5" || p.RetryAfter != 5 {
		t.Errorf("Retry-After %q, retry_after %d; want 5 (a full bucket of 10 at 2/s)", w.Header().Get("Retry-After"), p.RetryAfter)
	}
	// Refused requests take nothing: after half a second one item passes.
	fx.clock.Add(500 * time.Millisecond)
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, one), 200)

	// A batch bigger than the burst costs the burst: refused while the
	// bucket is low, answered once it is full again.
	var twenty []map[string]string
	for range 20 {
		twenty = append(twenty, map[string]string{"sha256": eicarSHA256})
	}
	w = fx.do("POST", api.PathLookupFiles, fx.key, lookup(twenty...))
	p = problemOf(t, w, 429, api.ProblemRateLimited)
	if p.RetryAfter != 5 {
		t.Errorf("retry_after %d, want 5 (10 items at 2/s)", p.RetryAfter)
	}
	fx.clock.Add(5 * time.Second)
	resp := decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, lookup(twenty...)), 200)
	if len(resp.Results) != 20 {
		t.Errorf("%d results, want 20", len(resp.Results))
	}

	// Licenses have buckets of their own.
	other, _, err := fx.db.CreateLicense(context.Background(), "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, other, lookup(ten...)), 200)
	problemOf(t, fx.do("GET", api.PathStatus, fx.key, nil), 429, api.ProblemRateLimited)

	// Submissions have a bucket apart from lookups: a license whose
	// lookups are refused can still deliver, and a delivery that empties
	// its bucket leaves the lookups alone.
	rec := api.Record{ID: strings.Repeat("ab", 16), Kind: "file", CreatedAt: fx.clock.Now(), Body: json.RawMessage(fileBody)}
	decodeJSON[api.SubmissionResult](t, fx.do("POST", api.PathSubmissions, fx.key, batchOf(rec)), 202)
	fx.clock.Add(5 * time.Second) // the lookup bucket is full again
	for i := range 10 {
		r := rec
		r.ID = fmt.Sprintf("%032x", i+1)
		decodeJSON[api.SubmissionResult](t, fx.do("POST", api.PathSubmissions, fx.key, batchOf(r)), 202)
	}
	problemOf(t, fx.do("POST", api.PathSubmissions, fx.key, batchOf(rec)), 429, api.ProblemRateLimited)
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, lookup(ten...)), 200)
}

func TestRestricted(t *testing.T) {
	fx := newFixture(t, nil)
	ctx := context.Background()
	req := lookup(map[string]string{"sha256": eicarSHA256})
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, req), 200)

	if err := fx.db.SetRestriction(ctx, fx.clock.Now().Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// The switch is read at most once a second.
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, req), 200)
	fx.clock.Add(time.Second)
	w := fx.do("POST", api.PathLookupFiles, fx.key, req)
	p := problemOf(t, w, 503, api.ProblemRestricted)
	if p.RetryAfter < 599 || p.RetryAfter > 600 || w.Header().Get("Retry-After") == "" {
		t.Errorf("retry_after %d (header %q), want about 600", p.RetryAfter, w.Header().Get("Retry-After"))
	}
	st := decodeJSON[api.Status](t, fx.do("GET", api.PathStatus, fx.key, nil), 200)
	if st.FileReputation != "restricted" {
		t.Errorf("status file_reputation %q, want restricted", st.FileReputation)
	}
	// Submissions go on while lookups are restricted.
	decodeJSON[api.SubmissionResult](t, fx.do("POST", api.PathSubmissions, fx.key, api.SubmissionBatch{Participant: testParticipant}), 202)

	if err := fx.db.SetRestriction(ctx, time.Time{}); err != nil {
		t.Fatal(err)
	}
	fx.clock.Add(time.Second)
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, req), 200)

	// A restriction ends by itself.
	if err := fx.db.SetRestriction(ctx, fx.clock.Now().Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	fx.clock.Add(time.Second)
	problemOf(t, fx.do("POST", api.PathLookupFiles, fx.key, req), 503, api.ProblemRestricted)
	fx.clock.Add(6 * time.Second)
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, req), 200)
}
