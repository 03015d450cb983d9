package feeds

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// The URLhaus host file as published: a banner of '#' lines, then one
// "127.0.0.1<TAB>host" line per host.
const hostfileSample = `################################################################
# abuse.ch URLhaus Host file                                   #
# Last updated: 2026-03-01 10:05:03 (UTC)                      #
#                                                              #
# Terms Of Use: https://urlhaus.abuse.ch/api/                  #
################################################################
#
127.0.0.1	evil.example
127.0.0.1	Drop.Bad.Example.
0.0.0.0 one.example two.example  # aliases, and a trailing comment
127.0.0.1	localhost
127.0.0.1	10.1.2.3
not-an-address evil2.example
127.0.0.1
`

func TestParseHostfile(t *testing.T) {
	inds, sum := parseURLLines(t, URLhausHostfile, hostfileSample)
	var got []string
	for _, ind := range inds {
		if ind.Verdict != reputation.Malicious || ind.Category != "malware_download" {
			t.Errorf("%s: %s %s", ind.Expression, ind.Verdict, ind.Category)
		}
		got = append(got, ind.Expression)
	}
	want := []string{"evil.example/", "drop.bad.example/", "one.example/", "two.example/"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("expressions %v, want %v", got, want)
	}
	if sum.Indicators != 4 || sum.Malformed != 2 || sum.Lines != 14 {
		t.Errorf("summary %+v", sum)
	}
	if len(sum.Errors) != 2 || sum.Errors[0].Line != 13 || !strings.Contains(sum.Errors[0].Error(), "not an address") || sum.Errors[1].Line != 14 {
		t.Errorf("errors %v", sum.Errors)
	}
}

// A listed host covers every link to it and to its subdomains, because
// each link's expressions include "host/" for its host suffixes.
func TestHostfileMatchesLinks(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	res, err := ImportReader(ctx, db, strings.NewReader(hostfileSample), "-", ImportOptions{Format: URLhausHostfile})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Added != 4 {
		t.Errorf("stats %+v", res.Stats)
	}
	for link, listed := range map[string]bool{
		"http://evil.example/payload.exe":     true,
		"https://cdn.drop.bad.example/a?b=1":  true,
		"http://example/":                     false,
		"http://not-evil.example/payload.exe": false,
	} {
		c, err := urlcanon.Canonicalize(link)
		if err != nil {
			t.Fatal(err)
		}
		var hashes []store.URLHash
		for _, e := range c.Expressions() {
			hashes = append(hashes, urlcanon.Hash(e))
		}
		found, err := db.LookupURLs(ctx, hashes)
		if err != nil {
			t.Fatal(err)
		}
		if (len(found) > 0) != listed {
			t.Errorf("%s: found %v, want listed=%v", link, found, listed)
		}
		for _, inds := range found {
			if inds[0].Source != "urlhaus-hostfile" {
				t.Errorf("source %q", inds[0].Source)
			}
		}
	}
}

func openTestDB(t *testing.T) *store.Local {
	t.Helper()
	db, err := store.OpenLocal(context.Background(), filepath.Join(t.TempDir(), "reputation.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
