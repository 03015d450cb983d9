package sources

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// TestServerLinkPrevalence: a link's prevalence is that of its own host
// and path (what a url record carries), not of a shorter expression of
// the same host; a match that brings a prevalence only (verdict unknown)
// is no hit: no source, no matched expression.
func TestServerLinkPrevalence(t *testing.T) {
	c, err := urlcanon.Canonicalize("https://shop.example.com/catalog/item.html?color=red")
	if err != nil {
		t.Fatal(err)
	}
	own, host := urlcanon.Hash("shop.example.com/catalog/item.html"), urlcanon.Hash("shop.example.com/")
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
		json.NewEncoder(w).Encode(api.URLLookupResponse{Matches: []api.URLMatch{
			{Hash: own.String(), Verdict: "unknown", Prevalence: 5},
			{Hash: host.String(), Verdict: "unknown", Prevalence: 900},
		}})
	})
	cl, err := client.New(client.Options{Endpoint: f.URL, LicenseKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	ans, err := NewServer(cl, ServerOptions{}).LookupLinks(context.Background(), []reputation.LinkQuery{c.Lookup()})
	if err != nil || len(ans) != 1 {
		t.Fatalf("%+v, %v", ans, err)
	}
	a := ans[0]
	if a.Prevalence != 5 || a.Verdict != reputation.Unknown || len(a.Sources) != 0 || len(a.Matched) != 0 {
		t.Errorf("answer %+v; want prevalence 5 (the link's own), unknown, no source, nothing matched", a)
	}
	// Combined with a local answer, the prevalence stays and lowers nothing.
	local := reputation.Answer{Source: "local", Trust: reputation.TrustLocal, Result: reputation.Result{Verdict: reputation.Malicious, Sources: []string{"urlhaus"}}}
	if r := reputation.Combine([]reputation.Answer{local, a}); r.Verdict != reputation.Malicious || r.Prevalence != 5 {
		t.Errorf("combined %+v", r)
	}
}
