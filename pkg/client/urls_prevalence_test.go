package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// TestLookupURLsPrevalence: a count of participants comes through as
// given; one outside [0, api.MaxPrevalence] is a protocol violation, not
// a number to show.
func TestLookupURLsPrevalence(t *testing.T) {
	listed := sha256.Sum256([]byte("shop.example/item.html"))
	for _, tc := range []struct {
		prevalence int
		ok         bool
	}{{0, true}, {3, true}, {api.MaxPrevalence, true}, {-1, false}, {api.MaxPrevalence + 1, false}} {
		c, _ := urlServer(t, [][32]byte{listed}, func(r *api.URLLookupResponse) {
			for i := range r.Matches {
				r.Matches[i].Prevalence = tc.prevalence
			}
		})
		ans, err := c.LookupURLs(context.Background(), [][4]byte{[4]byte(listed[:4])})
		if !tc.ok {
			if err == nil || !strings.Contains(err.Error(), "prevalence") {
				t.Errorf("prevalence %d: %+v, %v; want a protocol violation naming it", tc.prevalence, ans, err)
			}
			continue
		}
		if err != nil || ans.Verdicts[listed].Prevalence != tc.prevalence {
			t.Errorf("prevalence %d: %+v, %v", tc.prevalence, ans, err)
		}
	}
}

// FuzzLookupURLsAnswer feeds the client's URL-lookup decoder any answer:
// what it accepts is only ever matches of the prefix asked about, with a
// full hash, a known verdict and a prevalence in bounds.
func FuzzLookupURLsAnswer(f *testing.F) {
	asked := [4]byte{0xab, 0xcd, 0xef, 0x01}
	full := hex.EncodeToString(asked[:]) + strings.Repeat("00", 28)
	for _, seed := range []string{
		`{"matches":[],"cache_ttl_seconds":300}`,
		`{"matches":[{"hash":"` + full + `","verdict":"malicious","prevalence":4}],"cache_ttl_seconds":0}`,
		`{"matches":[{"hash":"` + full + `","verdict":"unknown","prevalence":-7}]}`,
		`{"matches":[{"hash":"` + full + `","verdict":"unknown","prevalence":1e99}]}`,
		`{"matches":[{"hash":"` + full + `","verdict":"unknown","prevalence":9223372036854775807}]}`,
		`{"matches":[{"hash":"` + strings.Repeat("ff", 32) + `","verdict":"clean"}]}`,
	} {
		f.Add([]byte(seed))
	}
	var mu sync.Mutex
	var body []byte
	f.Fuzz(func(t *testing.T, b []byte) {
		srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		})
		mu.Lock()
		body = b
		mu.Unlock()
		c := newClient(t, srv.URL, func(o *Options) { o.Timeout = 5 * time.Second })
		ans, err := c.LookupURLs(context.Background(), [][4]byte{asked})
		if err != nil {
			return
		}
		for h, m := range ans.Verdicts {
			if [4]byte(h[:4]) != asked || m.Hash != hex.EncodeToString(h[:]) {
				t.Errorf("accepted a match %+v for hash %x", m, h)
			}
			if _, err := reputation.ParseVerdict(m.Verdict); err != nil {
				t.Errorf("accepted verdict %q", m.Verdict)
			}
			if m.Prevalence < 0 || m.Prevalence > api.MaxPrevalence {
				t.Errorf("accepted prevalence %d", m.Prevalence)
			}
		}
	})
}
