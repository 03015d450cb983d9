package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

// urlServer answers URL lookups from a list of full hashes, the way a
// server does, and records every request body it receives.
func urlServer(t *testing.T, listed [][32]byte, extra func(*api.URLLookupResponse)) (*Client, func() []api.URLLookupRequest) {
	t.Helper()
	var mu sync.Mutex
	var reqs []api.URLLookupRequest
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		var req api.URLLookupRequest
		if r.URL.Path != api.PathLookupURLs || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		mu.Lock()
		reqs = append(reqs, req)
		mu.Unlock()
		resp := api.URLLookupResponse{CacheTTLSeconds: 300}
		for _, p := range req.Prefixes {
			for _, h := range listed {
				if hex.EncodeToString(h[:4]) == p {
					resp.Matches = append(resp.Matches, api.URLMatch{Hash: hex.EncodeToString(h[:]), Verdict: "malicious", Threat: "T"})
				}
			}
		}
		if extra != nil {
			extra(&resp)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	})
	c := newClient(t, srv.URL, func(o *Options) { o.Timeout = 5 * time.Second })
	return c, func() []api.URLLookupRequest { mu.Lock(); defer mu.Unlock(); return reqs }
}

func TestLookupURLs(t *testing.T) {
	listed := sha256.Sum256([]byte("evil.example/"))
	// Shares listed's prefix but is another full hash: the server must
	// send it, the caller must not take it for a match of its own.
	twin := listed
	twin[31] ^= 1
	c, requests := urlServer(t, [][32]byte{listed, twin}, nil)
	other := sha256.Sum256([]byte("fine.example/"))
	ans, err := c.LookupURLs(context.Background(), [][4]byte{[4]byte(listed[:4]), [4]byte(other[:4])})
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Verdicts) != 2 || ans.Verdicts[listed].Verdict != "malicious" {
		t.Fatalf("answer %+v", ans)
	}
	reqs := requests()
	if len(reqs) != 1 || strings.Join(reqs[0].Prefixes, ",") != hex.EncodeToString(listed[:4])+","+hex.EncodeToString(other[:4]) {
		t.Fatalf("requests %+v: want exactly the two prefixes", reqs)
	}
}

func TestLookupURLsBatches(t *testing.T) {
	c, requests := urlServer(t, nil, nil)
	prefixes := make([][4]byte, 2*api.MaxBatch+5)
	if _, err := c.LookupURLs(context.Background(), prefixes); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, r := range requests() {
		sizes = append(sizes, len(r.Prefixes))
	}
	if len(sizes) != 3 || sizes[0] != api.MaxBatch || sizes[2] != 5 {
		t.Fatalf("batch sizes %v", sizes)
	}
}

func TestLookupURLsProtocolViolations(t *testing.T) {
	listed := sha256.Sum256([]byte("evil.example/"))
	unasked := sha256.Sum256([]byte("elsewhere.example/"))
	for name, lie := range map[string]func(*api.URLLookupResponse){
		"unasked prefix": func(r *api.URLLookupResponse) {
			r.Matches = append(r.Matches, api.URLMatch{Hash: hex.EncodeToString(unasked[:]), Verdict: "clean"})
		},
		"short hash":      func(r *api.URLLookupResponse) { r.Matches[0].Hash = r.Matches[0].Hash[:62] },
		"upper-case hash": func(r *api.URLLookupResponse) { r.Matches[0].Hash = strings.ToUpper(r.Matches[0].Hash) },
		"unknown verdict": func(r *api.URLLookupResponse) { r.Matches[0].Verdict = "evil" },
		"negative TTL":    func(r *api.URLLookupResponse) { r.CacheTTLSeconds = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := urlServer(t, [][32]byte{listed}, lie)
			_, err := c.LookupURLs(context.Background(), [][4]byte{[4]byte(listed[:4])})
			if e := asError(t, err); e.Reason != ReasonServiceError || e.Detail != DetailProtocol {
				t.Fatalf("got %+v, want a protocol violation", e)
			}
		})
	}
}
