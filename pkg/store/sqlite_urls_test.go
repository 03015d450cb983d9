package store

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/reputation"
)

func urlInd(expr string, v reputation.Verdict, name string) reputation.URLIndicator {
	return reputation.URLIndicator{Hash: sha256.Sum256([]byte(expr)), Expression: expr, Verdict: v, ThreatName: name, Category: "malware_download"}
}

func importURLs(t *testing.T, s Store, source string, inds ...reputation.URLIndicator) ImportStats {
	t.Helper()
	im, err := s.BeginImport(t.Context(), source)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Rollback()
	for _, ind := range inds {
		if err := im.AddURL(ind); err != nil {
			t.Fatal(err)
		}
	}
	st, err := im.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestURLBaseline(t *testing.T) {
	s, _ := openTemp(t)
	for _, c := range []struct {
		expr    string
		verdict reputation.Verdict
	}{
		{"testsafebrowsing.appspot.com/s/malware.html", reputation.Malicious},
		{"testsafebrowsing.appspot.com/s/phishing.html", reputation.Malicious},
		{"testsafebrowsing.appspot.com/s/unwanted.html", reputation.Suspicious},
		{"malware.testing.google.test/testing/malware/", reputation.Malicious},
	} {
		h := sha256.Sum256([]byte(c.expr))
		found, err := s.LookupURLs(t.Context(), []URLHash{h})
		if err != nil {
			t.Fatal(err)
		}
		got := found[h]
		if len(got) != 1 || got[0].Source != reputation.BaselineSource || got[0].Verdict != c.verdict || got[0].Expression != c.expr || got[0].Category != "test" {
			t.Errorf("%s: %+v, want the baseline's %s", c.expr, got, c.verdict)
		}
	}
}

func TestURLImportAndLookup(t *testing.T) {
	s, _ := openTemp(t)
	a := urlInd("evil.example/dl/x.exe", reputation.Malicious, "Mozi")
	b := urlInd("phish.example/", reputation.Malicious, "")
	c := urlInd("ads.example/", reputation.Suspicious, "Adware")
	a.FirstSeen = time.Date(2024, 11, 26, 9, 11, 5, 0, time.UTC)
	if st := importURLs(t, s, "urlhaus", a, b, c, a); st != (ImportStats{Added: 3}) {
		t.Fatalf("first import: %+v, want 3 added (the repeated one counts once)", st)
	}
	if st := importURLs(t, s, "urlhaus", a, b, c); st != (ImportStats{Unchanged: 3}) {
		t.Fatalf("re-import: %+v, want 3 unchanged", st)
	}
	c.Verdict = reputation.Malicious
	if st := importURLs(t, s, "urlhaus", c); st != (ImportStats{Updated: 1}) {
		t.Fatalf("changed verdict: %+v, want 1 updated", st)
	}
	// Another source says the same host is clean: both are kept.
	if st := importURLs(t, s, "allow", urlInd("phish.example/", reputation.Clean, "")); st.Added != 1 {
		t.Fatalf("second source: %+v", st)
	}

	unknown := sha256.Sum256([]byte("nobody.example/"))
	found, err := s.LookupURLs(t.Context(), []URLHash{a.Hash, b.Hash, unknown, a.Hash})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 {
		t.Fatalf("found %d hashes, want 2: %+v", len(found), found)
	}
	if got := found[a.Hash]; len(got) != 1 || got[0].ThreatName != "Mozi" || !got[0].FirstSeen.Equal(a.FirstSeen) || got[0].LastSeen.IsZero() {
		t.Fatalf("a: %+v", got)
	}
	if r := reputation.MergeURLs(found[b.Hash]); r.Verdict != reputation.Malicious || len(r.Sources) != 2 {
		t.Fatalf("b merged: %+v, want malicious from two sources", r)
	}
	if _, ok := found[unknown]; ok {
		t.Fatal("an unlisted hash was found")
	}
}

func TestURLsByPrefix(t *testing.T) {
	s, _ := openTemp(t)
	// Hand-made hashes that share prefixes, and one at the very top of the
	// key space, which has no upper bound.
	mk := func(expr string, h [32]byte) reputation.URLIndicator {
		return reputation.URLIndicator{Hash: h, Expression: expr, Verdict: reputation.Malicious}
	}
	var h1, h2, h3, top [32]byte
	copy(h1[:], []byte{0x12, 0x34, 0x56, 0x78, 1})
	copy(h2[:], []byte{0x12, 0x34, 0x56, 0x78, 2})
	copy(h3[:], []byte{0x12, 0x34, 0x56, 0x79})
	for i := range top {
		top[i] = 0xff
	}
	importURLs(t, s, "test", mk("a/", h1), mk("b/", h2), mk("c/", h3), mk("d/", top))

	found, err := s.URLsByPrefix(t.Context(), []URLPrefix{{0x12, 0x34, 0x56, 0x78}, {0xff, 0xff, 0xff, 0xff}, {0x12, 0x34, 0x56, 0x78}, {0, 0, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 3 || found[h1] == nil || found[h2] == nil || found[top] == nil {
		t.Fatalf("found %v; want h1, h2 and top, not h3", found)
	}
}

func TestURLImportRejects(t *testing.T) {
	s, _ := openTemp(t)
	im, err := s.BeginImport(t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer im.Rollback()
	for name, ind := range map[string]reputation.URLIndicator{
		"no expression": {Hash: sha256.Sum256(nil), Verdict: reputation.Malicious},
		"no hash":       {Expression: "a/", Verdict: reputation.Malicious},
		"bad verdict":   urlInd("a/", "evil", ""),
	} {
		if err := im.AddURL(ind); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
