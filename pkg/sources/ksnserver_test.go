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

// lookupLink asks the server source at endpoint about one link.
func lookupLink(t *testing.T, endpoint string, c urlcanon.Canonical) reputation.Answer {
	t.Helper()
	cl, err := client.New(client.Options{Endpoint: endpoint, LicenseKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	ans, err := NewServer(cl, ServerOptions{}).LookupLinks(context.Background(), []reputation.LinkQuery{c.Lookup()})
	if err != nil || len(ans) != 1 {
		t.Fatalf("%+v, %v", ans, err)
	}
	return ans[0]
}

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
	a := lookupLink(t, f.URL, c)
	if a.Prevalence != 5 || a.Verdict != reputation.Unknown || len(a.Sources) != 0 || len(a.Matched) != 0 {
		t.Errorf("answer %+v; want prevalence 5 (the link's own), unknown, no source, nothing matched", a)
	}
	// Combined with a local answer, the prevalence stays and lowers nothing.
	local := reputation.Answer{Source: "local", Trust: reputation.TrustLocal, Result: reputation.Result{Verdict: reputation.Malicious, Sources: []string{"urlhaus"}}}
	if r := reputation.Combine([]reputation.Answer{local, a}); r.Verdict != reputation.Malicious || r.Prevalence != 5 {
		t.Errorf("combined %+v", r)
	}
}

// TestServerLinkOverride: the server's operator override of one of a
// link's expressions wins over the server's listing of another (a host
// cleared, a path on it listed), whichever is more severe; without the
// override mark the most severe listing wins. A local detection still
// stands over the network's clean.
func TestServerLinkOverride(t *testing.T) {
	c, err := urlcanon.Canonicalize("https://cdn.example.com/uploads/invoice.zip")
	if err != nil {
		t.Fatal(err)
	}
	path, host := urlcanon.Hash("cdn.example.com/uploads/invoice.zip"), urlcanon.Hash("cdn.example.com/")
	listed := api.URLMatch{Hash: path.String(), Verdict: "malicious", Threat: "AgentTesla", Sources: []string{"urlhaus"}}
	tests := []struct {
		name       string
		hostMatch  api.URLMatch
		want       reputation.Verdict
		wantThreat string
	}{
		{"override clears the host", api.URLMatch{Hash: host.String(), Verdict: "clean", Threat: "Cleared", Sources: []string{"override", "urlhaus"}}, reputation.Clean, "Cleared"},
		{"a feed's clean does not", api.URLMatch{Hash: host.String(), Verdict: "clean", Threat: "Vendor", Sources: []string{"vendor-list"}}, reputation.Malicious, "AgentTesla"},
		{"override to unknown neutralises", api.URLMatch{Hash: host.String(), Verdict: "unknown", Sources: []string{"override"}}, reputation.Unknown, ""},
		{"override pins a verdict", api.URLMatch{Hash: host.String(), Verdict: "suspicious", Threat: "Pinned", Sources: []string{"override"}}, reputation.Suspicious, "Pinned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, body string) {
				json.NewEncoder(w).Encode(api.URLLookupResponse{Matches: []api.URLMatch{listed, tt.hostMatch}})
			})
			a := lookupLink(t, f.URL, c)
			wantMatched := 2
			if tt.want == reputation.Unknown {
				wantMatched = 0
			}
			if a.Verdict != tt.want || a.ThreatName != tt.wantThreat || len(a.Matched) != wantMatched {
				t.Errorf("answer %+v; want %s %s, %d expressions matched", a, tt.want, tt.wantThreat, wantMatched)
			}
			local := reputation.Answer{Source: "local", Trust: reputation.TrustLocal, Result: reputation.Result{Verdict: reputation.Malicious, Sources: []string{"urlhaus"}}}
			if r := reputation.Combine([]reputation.Answer{local, a}); r.Verdict != reputation.Malicious {
				t.Errorf("combined with a local detection: %s, want malicious", r.Verdict)
			}
		})
	}
}
