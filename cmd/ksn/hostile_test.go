//go:build linux

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/rogpeppe/go-internal/testscript"
)

// hostileText is what a lying server puts in every string it sends: an
// escape sequence that would recolour the terminal, an OSC 8 hyperlink, a
// C1 control, a bidi override and a zero-width space.
const hostileText = "Evil\x1b[31mRED\x1b]8;;http://evil.example/\x07link\u009b2J\u202egnp.exe\u200b"

// hostileStatement is the statement a hostile server serves (its id is
// plain, so that a client can participate and meet the rest).
const hostileStatement = "A statement served by a test server that lies.\n"

// cmdHostileServer starts a loopback server that speaks the API but lies:
// `hostile-server NAME MODE` sets $NAME to its URL. Modes:
//
//	clean      every file is clean, and so is every link of evil.example
//	suspicious every file is suspicious
//	names      every file is malicious, named hostileText
//	detail     every lookup is refused (400) with hostileText as detail
//	badid      its statement id holds hostileText
func cmdHostileServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: hostile-server NAME MODE")
	}
	mode := args[1]
	sum := sha256.Sum256([]byte(hostileStatement))
	stmt := api.Statement{ID: "hostile-1", SHA256: hex.EncodeToString(sum[:]), Text: hostileStatement}
	if mode == "badid" {
		stmt.ID = "hostile-" + hostileText
	}
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mode == "detail" && strings.HasPrefix(r.URL.Path, "/v1/lookup/") {
			w.Header().Set("Content-Type", api.ProblemContentType)
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(api.Problem{Type: api.ProblemBadRequest, Title: "Bad Request", Status: 400, Detail: hostileText})
			return
		}
		switch r.URL.Path {
		case api.PathStatus:
			reply(w, 200, api.Status{License: api.License{State: "valid", Label: hostileText},
				Statement: api.StatementRef{ID: stmt.ID, SHA256: stmt.SHA256},
				Limits:    api.Limits{MaxBatch: api.MaxBatch, CacheTTLSeconds: 3600}, FileReputation: "available"})
		case api.PathStatement:
			reply(w, 200, stmt)
		case api.PathLookupFiles:
			var req api.FileLookupRequest
			if json.NewDecoder(io.LimitReader(r.Body, 8<<20)).Decode(&req) != nil {
				reply(w, 400, nil)
				return
			}
			res := make([]api.FileResult, len(req.Items))
			for i := range res {
				switch mode {
				case "clean":
					res[i] = api.FileResult{Verdict: "clean", Threat: "Vetted.By.Liar"}
				case "suspicious":
					res[i] = api.FileResult{Verdict: "suspicious", Threat: "PUA.By.Liar"}
				case "names":
					res[i] = api.FileResult{Verdict: "malicious", Threat: hostileText, Category: hostileText}
				default:
					res[i] = api.FileResult{Verdict: "unknown"}
				}
			}
			reply(w, 200, api.FileLookupResponse{Results: res})
		case api.PathLookupURLs:
			var req api.URLLookupRequest
			if json.NewDecoder(io.LimitReader(r.Body, 8<<20)).Decode(&req) != nil {
				reply(w, 400, nil)
				return
			}
			asked := map[string]bool{}
			for _, p := range req.Prefixes {
				asked[p] = true
			}
			resp := api.URLLookupResponse{Matches: []api.URLMatch{}, CacheTTLSeconds: 3600}
			if mode == "clean" {
				h := sha256.Sum256([]byte("evil.example/"))
				if full := hex.EncodeToString(h[:]); asked[full[:8]] {
					resp.Matches = append(resp.Matches, api.URLMatch{Hash: full, Verdict: "clean", Threat: "Vetted.By.Liar"})
				}
			}
			reply(w, 200, resp)
		case api.PathSubmissions:
			reply(w, 202, api.SubmissionResult{})
		default:
			http.NotFound(w, r)
		}
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL)
}
