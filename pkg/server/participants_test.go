package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

// TestSeatsCapPrevalence: one license that sends the same file under
// 1,000 made-up participant codes raises its prevalence to its seats and
// no further; every record is still stored and counted as a report. A
// second license adds its own participant.
func TestSeatsCapPrevalence(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, func(c *Config) { c.MinPrevalence = 1 })
	one, err := fx.db.SetLicenseSeats(ctx, fx.key, 1)
	if err != nil {
		t.Fatal(err)
	}
	if one.Seats != 1 {
		t.Fatalf("seats %d", one.Seats)
	}
	body := `{"digests":{"sha256":"` + unknownSHA25 + `"},"size":1,"verdict":"unknown","hash_ms":0.1}`
	n := 0
	send := func(key string, codes int) {
		t.Helper()
		for range codes {
			n++
			code := make([]byte, 16)
			rand.Read(code)
			b := api.SubmissionBatch{Participant: hex.EncodeToString(code), Records: []api.Record{
				{ID: fmt.Sprintf("%032x", n), Kind: "file", CreatedAt: time.Now(), Body: json.RawMessage(body)}}}
			if r := decodeJSON[api.SubmissionResult](t, fx.do("POST", api.PathSubmissions, key, b), 202); r.Accepted != 1 {
				t.Fatalf("batch %d: %+v", n, r)
			}
		}
	}
	prevalence := func() int {
		t.Helper()
		resp := decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, lookup(map[string]string{"sha256": unknownSHA25})), 200)
		return resp.Results[0].Prevalence
	}
	send(fx.key, 1000)
	if p := prevalence(); p != 1 {
		t.Fatalf("1,000 codes of a one-seat license: prevalence %d, want 1", p)
	}
	other, _, err := fx.db.CreateLicense(ctx, "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	send(other, 5)
	if p := prevalence(); p != 2 {
		t.Fatalf("two one-seat licenses: prevalence %d, want 2", p)
	}
	agg, err := fx.db.ObjectStats(ctx, "file", [][]byte{mustHex(t, unknownSHA25)})
	if st := agg[string(mustHex(t, unknownSHA25))]; err != nil || st.Reports != 1005 || st.Participants != 2 {
		t.Fatalf("aggregate %+v, %v: want 1005 reports of 2 participants", st, err)
	}

	// More seats admit more codes, up to the new number.
	if _, err := fx.db.SetLicenseSeats(ctx, other, 3); err != nil {
		t.Fatal(err)
	}
	fx.clock.Add(licenseCheckEvery) // the server reads a license at most once a second
	send(other, 10)
	if p := prevalence(); p != 4 {
		t.Fatalf("a license raised to 3 seats: prevalence %d, want 4", p)
	}
}

// TestIDReusedRefused: a record id sent again with the same record is a
// duplicate; with another record it is 422 id-reused, naming the record,
// and nothing of the batch is stored.
func TestIDReusedRefused(t *testing.T) {
	fx := newFixture(t, nil)
	a, b := strings.Repeat("a", 32), strings.Repeat("b", 32)
	decodeJSON[api.SubmissionResult](t, fx.do("POST", api.PathSubmissions, fx.key, batchOf(rec(a))), 202)
	if r := decodeJSON[api.SubmissionResult](t, fx.do("POST", api.PathSubmissions, fx.key, batchOf(rec(a))), 202); r.Duplicates != 1 {
		t.Fatalf("the same record again: %+v", r)
	}
	changed := rec(a)
	changed.Body = json.RawMessage(strings.Replace(fileBody, `"size":68`, `"size":69`, 1))
	p := problemOf(t, fx.do("POST", api.PathSubmissions, fx.key, batchOf(rec(b), changed)), 422, api.ProblemIDReused)
	if !strings.Contains(p.Detail, "records[1]") || !strings.Contains(p.Detail, a) {
		t.Errorf("detail %q", p.Detail)
	}
	var n int
	if err := fx.db.DB().QueryRow(`SELECT count(*) FROM sealed_submissions`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d records stored (%v), want 1", n, err)
	}
}
