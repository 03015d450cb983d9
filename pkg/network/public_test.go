package network

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/participation"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// zoneServer answers OpenTIP's hash lookups with a status and a zone, and
// counts the requests.
type zoneServer struct {
	*httptest.Server
	status   atomic.Int64
	requests atomic.Int64
}

func newZoneServer(t *testing.T) *zoneServer {
	z := &zoneServer{}
	z.status.Store(200)
	z.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		z.requests.Add(1)
		if s := int(z.status.Load()); s != 200 {
			w.WriteHeader(s)
			return
		}
		w.Write([]byte(`{"Zone":"Red","DetectionsInfo":[{"DetectionName":"Trojan.Test"}]}`))
	}))
	t.Cleanup(z.Close)
	return z
}

// testConsent is a user in dir who participates or not, with the
// settings of dir.
func testConsent(t *testing.T, paths config.Paths, participate bool) *Consent {
	t.Helper()
	ctx := context.Background()
	ps, err := participation.Open(ctx, paths.State)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	st := participation.Builtin()
	d, err := ps.Record(ctx, participation.Decision{Accepted: participate, Level: participation.Extended,
		StatementID: st.ID, StatementSHA256: st.SHA256, Via: participation.ViaFlag, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	settings, err := config.LoadSettings(paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	env := Env{Paths: paths, Getenv: func(string) string { return "" }, Version: "test"}
	return &Consent{env: env, store: ps, statement: st, settings: settings,
		status: participation.Evaluate(&d, env.Getenv, st, "")}
}

func testPaths(t *testing.T) config.Paths {
	d := t.TempDir()
	return config.Paths{Config: filepath.Join(d, "config"), Data: filepath.Join(d, "data"), State: filepath.Join(d, "state"), Cache: filepath.Join(d, "cache")}
}

func files(contents ...string) []reputation.FileQuery {
	var out []reputation.FileQuery
	for _, c := range contents {
		s := sha256.Sum256([]byte(c))
		out = append(out, reputation.FileQuery{Digests: checksum.Digests{checksum.SHA256: s[:]}, Size: int64(len(c))})
	}
	return out
}

// lookup opens a session as a check would and asks its sources.
func lookup(t *testing.T, c *Consent, fs []reputation.FileQuery) (*Session, []reputation.Answer, *recordedMessages) {
	t.Helper()
	msgs := &recordedMessages{}
	s := OpenSession(context.Background(), c, SessionOptions{Msg: msgs, Files: true})
	var got []reputation.Answer
	for _, src := range s.Sources() {
		a, _ := src.LookupFiles(context.Background(), fs)
		got = append(got, a...)
	}
	return s, got, msgs
}

func TestPublicSourceOnlyWhileParticipating(t *testing.T) {
	z := newZoneServer(t)
	paths := testPaths(t)
	if _, err := EnableSource(paths, "opentip", "token", z.URL, 0); err != nil {
		t.Fatal(err)
	}
	s, _, _ := lookup(t, testConsent(t, paths, false), files("a"))
	if len(s.Sources()) != 0 || z.requests.Load() != 0 || s.Failure() != nil {
		t.Fatalf("not participating: %d sources, %d requests", len(s.Sources()), z.requests.Load())
	}
	st, _ := PublicStatus(testConsent(t, paths, false), fixedTime())
	if st[0].State != "not-used" {
		t.Errorf("status %+v", st[0])
	}

	// Participating, with no endpoint: the source is asked.
	c := testConsent(t, paths, true)
	s, got, _ := lookup(t, c, files("a"))
	if len(got) != 1 || got[0].Verdict != reputation.Malicious || got[0].Source != "opentip" || z.requests.Load() != 1 || s.Failure() != nil {
		t.Fatalf("participating: %+v, %d requests, %v", got, z.requests.Load(), s.Failure())
	}
	st, _ = PublicStatus(c, fixedTime())
	if st[0].State != "connected" || st[0].RequestsToday != 1 || st[1].State != "not-configured" {
		t.Errorf("status %+v", st)
	}

	// An opt-out while the run works: the next batch sends nothing.
	if _, err := c.store.Record(context.Background(), participation.Decision{Accepted: false, Via: participation.ViaFlag, Version: "test"}); err != nil {
		t.Fatal(err)
	}
	a, err := s.Sources()[0].LookupFiles(context.Background(), files("b"))
	if err != nil || a[0].Given() || z.requests.Load() != 1 {
		t.Errorf("after an opt-out: %+v %v, %d requests", a, err, z.requests.Load())
	}
}

// A spent quota (403) is remembered: the next run sends the source
// nothing and ends rate-limited; a refused key is remembered until the
// source is enabled again.
func TestPublicSourceRemembers(t *testing.T) {
	z := newZoneServer(t)
	paths := testPaths(t)
	EnableSource(paths, "opentip", "token", z.URL, 0)
	c := testConsent(t, paths, true)

	z.status.Store(403)
	s, _, _ := lookup(t, c, files("a", "b"))
	if exitcode.Of(s.Failure()) != exitcode.RateLimited || !strings.Contains(s.Failure().Error(), "opentip verdicts unavailable, local verdicts stand: opentip: rate-limited: its request quota is spent (HTTP 403)") {
		t.Fatalf("403: %v", s.Failure())
	}
	sent := z.requests.Load()
	s, _, msgs := lookup(t, c, files("c"))
	if z.requests.Load() != sent || exitcode.Of(s.Failure()) != exitcode.RateLimited || !strings.Contains(msgs.String(), "notice: not asking opentip before") {
		t.Fatalf("next run: %d more requests, %v, %q", z.requests.Load()-sent, s.Failure(), msgs.String())
	}
	if st, _ := PublicStatus(c, fixedTime()); st[0].State != "rate-limited" || st[0].Until.IsZero() || st[0].Code() != exitcode.RateLimited {
		t.Errorf("status %+v", st[0])
	}
	if r, _ := c.Diagnose(context.Background()); r.Code != exitcode.RateLimited || r.Reason != "rate-limited" {
		t.Errorf("diagnose without endpoint: %+v", r.Connection)
	}

	EnableSource(paths, "opentip", "bad-token", z.URL, 0) // enabling again forgets the wait
	z.status.Store(401)
	s, _, _ = lookup(t, c, files("d"))
	if exitcode.Of(s.Failure()) != exitcode.LicenseBlocked {
		t.Fatalf("401: %v", s.Failure())
	}
	sent = z.requests.Load()
	s, _, msgs = lookup(t, c, files("e"))
	if z.requests.Load() != sent || exitcode.Of(s.Failure()) != exitcode.LicenseBlocked || !strings.Contains(msgs.String(), "refused its key") {
		t.Fatalf("after a refused key: %d more requests, %v", z.requests.Load()-sent, s.Failure())
	}
	z.status.Store(200)
	EnableSource(paths, "opentip", "good-token", z.URL, 0)
	if s, got, _ := lookup(t, c, files("f")); s.Failure() != nil || got[0].Verdict != reputation.Malicious {
		t.Fatalf("a new key: %+v %v", got, s.Failure())
	}
	if r, _ := c.Diagnose(context.Background()); !r.Connected || r.Detail != "no endpoint; public sources only" {
		t.Errorf("diagnose: %+v", r.Connection)
	}
}

// A daily quota the user gave is kept: requests stop at it, and the next
// runs that day send nothing.
func TestPublicSourceDailyQuota(t *testing.T) {
	z := newZoneServer(t)
	paths := testPaths(t)
	EnableSource(paths, "opentip", "token", z.URL, 2)
	c := testConsent(t, paths, true)
	s, _, _ := lookup(t, c, files("a"))
	if s.Failure() != nil || z.requests.Load() != 1 {
		t.Fatalf("first: %v, %d", s.Failure(), z.requests.Load())
	}
	s, _, _ = lookup(t, c, files("b", "c", "d"))
	if exitcode.Of(s.Failure()) != exitcode.RateLimited || z.requests.Load() != 2 {
		t.Fatalf("second: %v, %d requests", s.Failure(), z.requests.Load())
	}
	s, _, msgs := lookup(t, c, files("e"))
	if z.requests.Load() != 2 || !strings.Contains(msgs.String(), "notice: not asking opentip before") || !strings.Contains(msgs.String(), "daily quota is used up") {
		t.Fatalf("third: %d requests, %q", z.requests.Load(), msgs.String())
	}
}

func TestEnableSource(t *testing.T) {
	paths := testPaths(t)
	for _, c := range []struct{ name, key, url, want string }{
		{"opentip", "", "", "needs a key"},
		{"virustotal", "k", "", `no public source is named "virustotal"`},
		{"opentip", "a key", "", "printable ASCII without spaces"},
		{"hashlookup", "", "ftp://x.example", "--url"},
	} {
		if _, err := EnableSource(paths, c.name, c.key, c.url, 0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	cfg, err := EnableSource(paths, "opentip", " token-1 \n", "", 0)
	if err != nil || !cfg.Enabled || !cfg.KeyStored || cfg.BaseURL != "https://opentip.kaspersky.com" || cfg.Mirror {
		t.Fatalf("%+v %v", cfg, err)
	}
	fi, err := os.Stat(keyPath(paths, "opentip"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v", fi, err)
	}
	if k, _ := readKey(paths, "opentip"); k != "token-1" {
		t.Errorf("key %q", k)
	}
	if cfg, err := EnableSource(paths, "hashlookup", "", "http://127.0.0.1:9/", 0); err != nil || cfg.BaseURL != "http://127.0.0.1:9" || !cfg.Mirror || cfg.KeyStored {
		t.Errorf("hashlookup: %+v %v", cfg, err)
	}
	if was, err := DisableSource(paths, "opentip"); !was || err != nil {
		t.Fatal(was, err)
	}
	if _, err := os.Stat(keyPath(paths, "opentip")); !os.IsNotExist(err) {
		t.Errorf("the key outlived the source: %v", err)
	}
	if was, _ := DisableSource(paths, "opentip"); was {
		t.Error("disabled twice")
	}
}

func fixedTime() time.Time { return time.Now() }

// The statement a user accepts names every third party before it can be
// enabled.
func TestStatementNamesPublicSources(t *testing.T) {
	text := strings.Join(strings.Fields(participation.Builtin().Text), " ")
	for _, p := range PublicSources {
		name, _, _ := strings.Cut(p.Title, " (")
		host := strings.TrimPrefix(p.URL, "https://")
		if !strings.Contains(text, name) || !strings.Contains(text, host) {
			t.Errorf("the statement does not name %s (%s)", name, host)
		}
	}
}
