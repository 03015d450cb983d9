package sources

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// One file is looked up alone; a known-good hit is clean and named after
// the database it comes from.
func TestHashlookupOne(t *testing.T) {
	f := newFake(t, serve(t, 200, "hashlookup-nsrl.json"))
	got, err := NewHashlookup(opts(f, "")).LookupFiles(context.Background(), []reputation.FileQuery{fileOf("vendor\n")})
	if err != nil {
		t.Fatal(err)
	}
	a := got[0]
	if a.Verdict != reputation.Clean || a.ThreatName != "NSRL" || a.Category != "known-good" || a.Sources[0] != "hashlookup" {
		t.Errorf("%+v", a)
	}
	if r := f.reqs[0]; r.Method != "GET" || r.URL.Path != "/lookup/sha256/"+hexOf("vendor\n") || r.Header.Get("x-api-key") != "" {
		t.Errorf("request %s %s", r.Method, r.URL)
	}
	checkCannotLower(t, a)

	f = newFake(t, serve(t, 404, "hashlookup-notfound.json"))
	got, err = NewHashlookup(opts(f, "")).LookupFiles(context.Background(), []reputation.FileQuery{fileOf("x")})
	if err != nil || got[0].Verdict != reputation.Unknown || !got[0].Given() {
		t.Errorf("404: %+v %v", got, err)
	}
}

// Several files go in one bulk request; the answer holds the records it
// knows, matched by their SHA-256, and KnownMalicious makes one malicious.
func TestHashlookupBulk(t *testing.T) {
	var asked struct{ Hashes []string }
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		decodeJSON(t, body, &asked)
		serve(t, 200, "hashlookup-bulk.json")(w, r, body)
	})
	files := []reputation.FileQuery{fileOf("unknown"), fileOf("vendor\n"), fileOf("other sample\n")}
	got, err := NewHashlookup(opts(f, "")).LookupFiles(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	if f.count() != 1 || f.reqs[0].Method != "POST" || f.reqs[0].URL.Path != "/bulk/sha256" || len(asked.Hashes) != 3 || asked.Hashes[1] != hexOf("vendor\n") {
		t.Errorf("request %s %s %v", f.reqs[0].Method, f.reqs[0].URL, asked)
	}
	if got[0].Verdict != reputation.Unknown || got[1].Verdict != reputation.Clean || got[1].ThreatName != "ubuntu" {
		t.Errorf("answers %+v", got)
	}
	if got[2].Verdict != reputation.Malicious || got[2].ThreatName != "listed by malware-bazaar" {
		t.Errorf("KnownMalicious: %+v", got[2])
	}
	for _, a := range got {
		checkClean(t, a.Result)
		checkCannotLower(t, a)
	}
}

func TestHashlookupFailures(t *testing.T) {
	f := newFake(t, serve(t, 503, ""))
	_, err := NewHashlookup(opts(f, "")).LookupFiles(context.Background(), []reputation.FileQuery{fileOf("a")})
	checkPublicError(t, err, ReasonService, exitcode.ServiceError)
	f = newFake(t, serve(t, 429, ""))
	_, err = NewHashlookup(opts(f, "")).LookupFiles(context.Background(), []reputation.FileQuery{fileOf("a"), fileOf("b")})
	checkPublicError(t, err, ReasonRateLimited, exitcode.RateLimited)
	f = newFake(t, func(w http.ResponseWriter, _ *http.Request, _ string) { w.Write([]byte(`[{"SHA-256":"zz"}]`)) })
	_, err = NewHashlookup(opts(f, "")).LookupFiles(context.Background(), []reputation.FileQuery{fileOf("a"), fileOf("b")})
	if pe := checkPublicError(t, err, ReasonService, exitcode.ServiceError); !strings.Contains(pe.Error(), `SHA-256 "zz"`) {
		t.Errorf("%v", pe)
	}
}

func FuzzDecodeHashlookup(f *testing.F) {
	f.Add(recorded(f, "hashlookup-nsrl.json"), false)
	f.Add(recorded(f, "hashlookup-bulk.json"), true)
	f.Add(recorded(f, "hashlookup-notfound.json"), false)
	f.Add([]byte(`{"KnownMalicious":"\u001b]8;;x\u0007","hashlookup:trust":-5}`), false)
	f.Fuzz(func(t *testing.T, body []byte, bulk bool) {
		if bulk {
			rs, shas, err := DecodeHashlookupBulk(body)
			if err != nil {
				return
			}
			if len(rs) != len(shas) {
				t.Fatalf("%d results, %d digests", len(rs), len(shas))
			}
			for i, r := range rs {
				checkClean(t, r)
				if len(shas[i]) != 64 {
					t.Fatalf("digest %q", shas[i])
				}
			}
			return
		}
		r, sha, err := DecodeHashlookup(body)
		if err != nil {
			return
		}
		checkClean(t, r)
		if sha != "" && len(sha) != 64 {
			t.Fatalf("digest %q", sha)
		}
	})
}
