package sources

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/reputation"
)

func TestMalwareBazaarHit(t *testing.T) {
	f := newFake(t, serve(t, 200, "malwarebazaar-ok.json"))
	got, err := NewMalwareBazaar(opts(f, "auth-1")).LookupFiles(context.Background(), []reputation.FileQuery{fileOf("vendor\n")})
	if err != nil {
		t.Fatal(err)
	}
	a := got[0]
	if a.Verdict != reputation.Malicious || a.ThreatName != "AgentTesla" || a.Category != "malware" || a.Sources[0] != MalwareBazaarName ||
		!a.FirstSeen.Equal(time.Date(2026, 2, 20, 14, 31, 7, 0, time.UTC)) || !a.LastSeen.IsZero() {
		t.Errorf("%+v", a)
	}
	checkClean(t, a.Result)
	checkCannotLower(t, a)
	r := f.reqs[0]
	form, _ := url.ParseQuery(f.body[0])
	if r.Method != "POST" || r.URL.Path != "/api/v1/" || r.Header.Get("Auth-Key") != "auth-1" ||
		form.Get("query") != "get_info" || form.Get("hash") != hexOf("vendor\n") || len(form) != 2 {
		t.Errorf("request %s %s %v %q", r.Method, r.URL, r.Header, f.body[0])
	}
}

func TestMalwareBazaarMissAndKey(t *testing.T) {
	f := newFake(t, serve(t, 200, "malwarebazaar-notfound.json"))
	got, err := NewMalwareBazaar(opts(f, "k")).LookupFiles(context.Background(), []reputation.FileQuery{fileOf("x")})
	if err != nil || got[0].Verdict != reputation.Unknown || !got[0].Given() {
		t.Errorf("not found: %+v %v", got, err)
	}
	for _, status := range []int{200, 401, 403} {
		f = newFake(t, serve(t, status, "malwarebazaar-unknown-key.json"))
		_, err = NewMalwareBazaar(opts(f, "bad")).LookupFiles(context.Background(), []reputation.FileQuery{fileOf("x")})
		checkPublicError(t, err, ReasonKeyRejected, exitcode.LicenseBlocked)
	}
	f = newFake(t, serve(t, 502, ""))
	_, err = NewMalwareBazaar(opts(f, "k")).LookupFiles(context.Background(), []reputation.FileQuery{fileOf("x")})
	checkPublicError(t, err, ReasonService, exitcode.ServiceError)
}

func FuzzDecodeMalwareBazaar(f *testing.F) {
	for _, name := range []string{"malwarebazaar-ok.json", "malwarebazaar-notfound.json", "malwarebazaar-unknown-key.json"} {
		f.Add(recorded(f, name))
	}
	f.Add([]byte(`{"query_status":"ok","data":[{"signature":null,"tags":["\u202eexe"],"first_seen":"2026-02-30 25:00:00"}]}`))
	f.Add([]byte(`{"query_status":"ok","data":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, _, err := DecodeMalwareBazaar(body)
		if err != nil {
			return
		}
		checkClean(t, r)
		if r.Verdict != reputation.Malicious && r.Verdict != reputation.Unknown {
			t.Fatalf("verdict %s", r.Verdict)
		}
	})
}
