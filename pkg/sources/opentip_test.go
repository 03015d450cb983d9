package sources

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/reputation"
)

func TestOpenTIPZones(t *testing.T) {
	for _, c := range []struct {
		file    string
		verdict reputation.Verdict
		threat  string
		cat     string
	}{
		{"opentip-red.json", reputation.Malicious, "Trojan-Spy.Win32.Agent.gen", "malware"},
		{"opentip-yellow.json", reputation.Suspicious, "not-a-virus:HEUR:AdWare.Win32.Agent.gen", "adware and other"},
		{"opentip-green.json", reputation.Clean, "", "clean"},
		{"opentip-grey.json", reputation.Unknown, "", ""},
	} {
		f := newFake(t, serve(t, 200, c.file))
		src := NewOpenTIP(opts(f, "token-1"))
		got, err := src.LookupFiles(context.Background(), []reputation.FileQuery{fileOf("vendor\n")})
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		a := got[0]
		if a.Source != OpenTIPName || a.Trust != reputation.TrustNetwork || a.Verdict != c.verdict || a.ThreatName != c.threat || a.Category != c.cat {
			t.Errorf("%s: %+v", c.file, a)
		}
		if c.verdict != reputation.Unknown && (len(a.Sources) != 1 || a.Sources[0] != "opentip") {
			t.Errorf("%s: sources %v", c.file, a.Sources)
		}
		checkClean(t, a.Result)
		checkCannotLower(t, a)
		// Only the digest goes, with the key, to the documented endpoint.
		r := f.reqs[0]
		if r.Method != "GET" || r.URL.Path != "/api/v1/search/hash" || r.URL.RawQuery != "request="+hexOf("vendor\n") ||
			r.Header.Get("x-api-key") != "token-1" || f.body[0] != "" {
			t.Errorf("%s: request %s %s %v %q", c.file, r.Method, r.URL, r.Header, f.body[0])
		}
		if src.Requests() != 1 {
			t.Errorf("%d requests counted", src.Requests())
		}
	}
	r, info, err := DecodeOpenTIP(recorded(t, "opentip-red.json"))
	if err != nil || !r.FirstSeen.Equal(time.Date(2024, 2, 11, 8, 12, 0, 0, time.UTC)) || !r.LastSeen.Equal(time.Date(2026, 2, 27, 16, 40, 0, 0, time.UTC)) || info.Hits != 1000 {
		t.Errorf("dates and hits: %+v %+v %v", r, info, err)
	}
}

func TestOpenTIPFailures(t *testing.T) {
	ctx := context.Background()
	files := []reputation.FileQuery{fileOf("a"), fileOf("b"), fileOf("c")}

	f := newFake(t, serve(t, 401, ""))
	_, err := NewOpenTIP(opts(f, "bad")).LookupFiles(ctx, files)
	checkPublicError(t, err, ReasonKeyRejected, exitcode.LicenseBlocked)

	// 403 is the quota, spent until the next UTC day; the batch stops.
	f = newFake(t, serve(t, 403, ""))
	_, err = NewOpenTIP(opts(f, "k")).LookupFiles(ctx, files)
	pe := checkPublicError(t, err, ReasonRateLimited, exitcode.RateLimited)
	if !pe.Until.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("until %v", pe.Until)
	}
	// A Retry-After, when given, decides.
	f = newFake(t, func(w http.ResponseWriter, _ *http.Request, _ string) {
		w.Header().Set("Retry-After", "600")
		w.WriteHeader(429)
	})
	_, err = NewOpenTIP(opts(f, "k")).LookupFiles(ctx, files[:1])
	if pe := checkPublicError(t, err, ReasonRateLimited, exitcode.RateLimited); !pe.Until.Equal(fixedNow.Add(10 * time.Minute)) {
		t.Errorf("until %v", pe.Until)
	}

	f = newFake(t, serve(t, 404, ""))
	got, err := NewOpenTIP(opts(f, "k")).LookupFiles(ctx, files[:1])
	if err != nil || got[0].Verdict != reputation.Unknown || !got[0].Given() {
		t.Errorf("404: %+v, %v", got, err)
	}

	f = newFake(t, func(w http.ResponseWriter, _ *http.Request, _ string) {
		w.Write([]byte(strings.Repeat(" ", maxPublicBody+1)))
	})
	_, err = NewOpenTIP(opts(f, "k")).LookupFiles(ctx, files[:1])
	checkPublicError(t, err, ReasonService, exitcode.ServiceError)

	f = newFake(t, serve(t, 500, "opentip-hostile.json"))
	_, err = NewOpenTIP(opts(f, "k")).LookupFiles(ctx, files[:1])
	if pe := checkPublicError(t, err, ReasonService, exitcode.ServiceError); strings.ContainsRune(pe.Error(), 0x1b) {
		t.Errorf("raw escape in %q", pe.Error())
	}

	_, err = NewOpenTIP(PublicOptions{BaseURL: "http://127.0.0.1:1", Now: time.Now}).LookupFiles(ctx, files[:1])
	checkPublicError(t, err, ReasonOffline, exitcode.Offline)
}

// What a hostile answer says reaches nobody raw.
func TestOpenTIPHostile(t *testing.T) {
	f := newFake(t, serve(t, 200, "opentip-hostile.json"))
	got, err := NewOpenTIP(opts(f, "k")).LookupFiles(context.Background(), []reputation.FileQuery{fileOf("x")})
	if err != nil {
		t.Fatal(err)
	}
	checkClean(t, got[0].Result)
	if !strings.Contains(got[0].ThreatName, `\x1b[31m`) || !got[0].FirstSeen.IsZero() {
		t.Errorf("%+v", got[0])
	}
}

// A known daily quota is respected without a request once spent, and an
// answer that says the quota is used up is noticed.
func TestOpenTIPBudget(t *testing.T) {
	f := newFake(t, serve(t, 200, "opentip-quota.json"))
	o := opts(f, "k")
	o.Budget, o.Workers = 2, 1
	src := NewOpenTIP(o)
	_, err := src.LookupFiles(context.Background(), []reputation.FileQuery{fileOf("a"), fileOf("b"), fileOf("c")})
	pe := checkPublicError(t, err, ReasonRateLimited, exitcode.RateLimited)
	if f.count() != 2 || src.Requests() != 2 || !pe.Until.Equal(NextUTCDay(fixedNow)) {
		t.Errorf("%d requests sent, %d counted, %v", f.count(), src.Requests(), pe)
	}
	if !src.QuotaSpent() {
		t.Error("LicenseInfo with DayRequests = DayQuota not noticed")
	}
}

// A file hashed without SHA-256 is not asked about, and links never are.
func TestOpenTIPNoDigestNoLinks(t *testing.T) {
	f := newFake(t, serve(t, 200, "opentip-red.json"))
	src := NewOpenTIP(opts(f, "k"))
	got, err := src.LookupFiles(context.Background(), []reputation.FileQuery{{Digests: checksum.Digests{checksum.BLAKE3: make([]byte, 32)}}})
	if err != nil || got[0].Given() || f.count() != 0 {
		t.Errorf("%+v %v, %d requests", got, err, f.count())
	}
	links, err := src.LookupLinks(context.Background(), make([]reputation.LinkQuery, 2))
	if err != nil || len(links) != 2 || links[0].Given() || f.count() != 0 {
		t.Errorf("links: %+v %v", links, err)
	}
}

func FuzzDecodeOpenTIP(f *testing.F) {
	for _, name := range []string{"opentip-red.json", "opentip-yellow.json", "opentip-green.json", "opentip-grey.json", "opentip-quota.json", "opentip-hostile.json"} {
		f.Add(recorded(f, name))
	}
	f.Add([]byte(`{"Zone":"Purple"}`))
	f.Add([]byte(`{"Zone":"Red","DetectionsInfo":[{"DetectionName":"\u202e"}],"FileGeneralInfo":{"FirstSeen":"2026-13-45T99:99:99Z"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, info, err := DecodeOpenTIP(body)
		if err != nil {
			return
		}
		checkClean(t, r)
		if len([]rune(r.ThreatName)) > 128 || info.Hits < 0 {
			t.Fatalf("%+v %+v", r, info)
		}
	})
}
