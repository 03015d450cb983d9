package server

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/reputation"
)

func TestLookupURLs(t *testing.T) {
	fx := newFixture(t, nil)
	im, err := fx.db.BeginImport(t.Context(), "urlhaus")
	if err != nil {
		t.Fatal(err)
	}
	listed := sha256.Sum256([]byte("evil.example/dl/x.exe"))
	if err := im.AddURL(reputation.URLIndicator{Hash: listed, Expression: "evil.example/dl/x.exe",
		Verdict: reputation.Malicious, ThreatName: "Mozi", Category: "malware_download"}); err != nil {
		t.Fatal(err)
	}
	if _, err := im.Commit(); err != nil {
		t.Fatal(err)
	}
	baseline := sha256.Sum256([]byte("testsafebrowsing.appspot.com/s/phishing.html"))
	unlisted := sha256.Sum256([]byte("nobody.example/"))
	prefix := func(h [32]byte) string { return hex.EncodeToString(h[:4]) }

	problemOf(t, fx.do("POST", api.PathLookupURLs, "", api.URLLookupRequest{Prefixes: []string{prefix(listed)}}), 401, api.ProblemNotActivated)

	resp := decodeJSON[api.URLLookupResponse](t, fx.do("POST", api.PathLookupURLs, fx.key,
		api.URLLookupRequest{Prefixes: []string{prefix(listed), prefix(unlisted), prefix(baseline), prefix(listed)}}), 200)
	if len(resp.Matches) != 2 {
		t.Fatalf("matches %+v, want the listed link and the baseline test page", resp.Matches)
	}
	byHash := map[string]api.URLMatch{}
	for _, m := range resp.Matches {
		byHash[m.Hash] = m
	}
	if m := byHash[hex.EncodeToString(listed[:])]; m.Verdict != "malicious" || m.Threat != "Mozi" || m.Category != "malware_download" ||
		len(m.Sources) != 1 || m.Sources[0] != "urlhaus" || m.FirstSeen == nil {
		t.Errorf("listed: %+v", m)
	}
	if m := byHash[hex.EncodeToString(baseline[:])]; m.Verdict != "malicious" || m.Category != "test" {
		t.Errorf("baseline: %+v", m)
	}
	if resp.CacheTTLSeconds <= 0 {
		t.Errorf("cache TTL %d", resp.CacheTTLSeconds)
	}

	for _, bad := range []string{"1234567", "123456789", "ABCDEF01", "zzzzzzzz", ""} {
		p := problemOf(t, fx.do("POST", api.PathLookupURLs, fx.key, api.URLLookupRequest{Prefixes: []string{bad}}), 400, api.ProblemBadRequest)
		if !strings.Contains(p.Detail, "prefixes[0]") {
			t.Errorf("%q: detail %q does not name the prefix", bad, p.Detail)
		}
	}
	many := make([]string, api.MaxBatch+1)
	for i := range many {
		many[i] = "00000000"
	}
	problemOf(t, fx.do("POST", api.PathLookupURLs, fx.key, api.URLLookupRequest{Prefixes: many}), 413, api.ProblemTooLarge)
}
