package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
)

// TestLookupURLsPrevalence: a link reported by enough participants comes
// back with its prevalence (beside its verdict when a source lists it,
// alone with verdict unknown otherwise); one reported by fewer than
// MinPrevalence does not come back at all.
func TestLookupURLsPrevalence(t *testing.T) {
	fx := newFixture(t, func(c *Config) { c.MinPrevalence = 2 })
	listed, popular, rare := "evil.example/dl/x.exe", "shop.example/item.html", "rare.example/page.html"
	im, err := fx.db.BeginImport(t.Context(), "urlhaus")
	if err != nil {
		t.Fatal(err)
	}
	if err := im.AddURL(reputation.URLIndicator{Hash: sha256.Sum256([]byte(listed)), Expression: listed, Verdict: reputation.Malicious, ThreatName: "Mozi"}); err != nil {
		t.Fatal(err)
	}
	if _, err := im.Commit(); err != nil {
		t.Fatal(err)
	}
	n := 0
	report := func(participant int, exprs ...string) {
		var subs []store.Submission
		for _, e := range exprs {
			n++
			subs = append(subs, store.Submission{
				Record: api.Record{ID: fmt.Sprintf("%032x", n), Kind: "url", CreatedAt: time.Now(), Body: []byte(`{"url":"https://` + e + `","verdict":"unknown","check_ms":1}`)},
				URL:    &store.URLFacts{Key: sha256.Sum256([]byte(e)), CheckMS: 1},
			})
		}
		if _, _, err := fx.db.StoreSubmissions(t.Context(), store.Sender{License: fx.lic.ID, Seats: fx.lic.Seats, Participant: fmt.Sprintf("%032x", participant)}, subs, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	report(1, listed, popular, rare)
	report(2, listed, popular)
	report(3, popular)

	var prefixes []string
	for _, e := range []string{listed, popular, rare} {
		h := sha256.Sum256([]byte(e))
		prefixes = append(prefixes, hex.EncodeToString(h[:4]))
	}
	resp := decodeJSON[api.URLLookupResponse](t, fx.do("POST", api.PathLookupURLs, fx.key, api.URLLookupRequest{Prefixes: prefixes}), 200)
	byHash := map[string]api.URLMatch{}
	for _, m := range resp.Matches {
		byHash[m.Hash] = m
	}
	hash := func(e string) string { h := sha256.Sum256([]byte(e)); return hex.EncodeToString(h[:]) }
	if len(resp.Matches) != 2 {
		t.Errorf("matches %+v; want the listed and the popular link only", resp.Matches)
	}
	if m := byHash[hash(listed)]; m.Verdict != "malicious" || m.Threat != "Mozi" || m.Prevalence != 2 {
		t.Errorf("listed: %+v; want malicious, prevalence 2", m)
	}
	if m := byHash[hash(popular)]; m.Verdict != "unknown" || m.Prevalence != 3 || len(m.Sources) != 0 {
		t.Errorf("popular: %+v; want unknown, prevalence 3, no source", m)
	}
	if _, ok := byHash[hash(rare)]; ok {
		t.Errorf("a link one participant reported was answered: %+v", byHash[hash(rare)])
	}
}
