//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rogpeppe/go-internal/testscript"
)

// fakeSources are the servers of fake-source, by script and name.
var fakeSources sync.Map // "WORK|NAME" -> *fakeSource

// fakeSource speaks one public service's API from a directory of
// recorded answers, and counts every request it gets (of any kind: a
// source that is not to be asked must get none).
type fakeSource struct {
	kind     string
	dir      string
	requests atomic.Int64
}

// cmdFakeSource starts a loopback fake of a public reputation service:
// `fake-source NAME opentip|hashlookup|mbapi DIR` sets $NAME to its URL.
// For a digest D it answers with DIR/D.status (an HTTP status, then
// optionally a Retry-After on the next line) or DIR/D.json (200), else
// DIR/default.status or DIR/default.json, else 404; hashlookup's bulk
// requests get DIR/bulk.json.
func cmdFakeSource(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: fake-source NAME opentip|hashlookup|mbapi DIR")
	}
	f := &fakeSource{kind: args[1], dir: ts.MkAbs(args[2])}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	ts.Defer(srv.Close)
	fakeSources.Store(ts.Getenv("WORK")+"|"+args[0], f)
	ts.Setenv(args[0], srv.URL)
}

func (f *fakeSource) serve(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	digest := ""
	switch {
	case f.kind == "opentip" && r.URL.Path == "/api/v1/search/hash" && r.Header.Get("x-api-key") != "":
		digest = r.URL.Query().Get("request")
	case f.kind == "mbapi" && r.URL.Path == "/api/v1/" && r.Header.Get("Auth-Key") != "":
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		r.ParseForm()
		digest = r.PostForm.Get("hash")
	case f.kind == "hashlookup" && strings.HasPrefix(r.URL.Path, "/lookup/sha256/"):
		digest = strings.TrimPrefix(r.URL.Path, "/lookup/sha256/")
	case f.kind == "hashlookup" && r.URL.Path == "/bulk/sha256":
		var req struct{ Hashes []string }
		if json.Unmarshal(body, &req) != nil || len(req.Hashes) == 0 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		digest = "bulk"
	default:
		http.Error(w, "not an API request", http.StatusBadRequest)
		return
	}
	for _, name := range []string{digest, "default"} {
		if b, err := os.ReadFile(filepath.Join(f.dir, filepath.Base(name)+".status")); err == nil {
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			code, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
			if len(lines) > 1 {
				w.Header().Set("Retry-After", strings.TrimSpace(lines[1]))
			}
			w.WriteHeader(code)
			return
		}
		if b, err := os.ReadFile(filepath.Join(f.dir, filepath.Base(name)+".json")); err == nil {
			w.Header().Set("Content-Type", "application/json")
			w.Write(b)
			return
		}
	}
	http.NotFound(w, r)
}

// cmdSourceRequests asserts how many requests a fake source got:
// `source-requests NAME 0` proves it was sent nothing.
func cmdSourceRequests(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: source-requests NAME COUNT")
	}
	v, ok := fakeSources.Load(ts.Getenv("WORK") + "|" + args[0])
	if !ok {
		ts.Fatalf("no fake source %s", args[0])
	}
	if got := fmt.Sprint(v.(*fakeSource).requests.Load()); got != args[1] {
		ts.Fatalf("fake source %s got %s requests, want %s", args[0], got, args[1])
	}
}
