//go:build linux

package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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

// feedServers are the servers of feed-server, by script and name.
var feedServers sync.Map // "WORK|NAME" -> *feedServer

// feedServer serves a directory of feeds the way a feed's publisher
// does: an ETag and a Last-Modified on every file, 304 to a conditional
// request for the current version. It counts the requests it gets.
type feedServer struct {
	dir         string
	mode        atomic.Value // string: "" or "truncate"
	requests    atomic.Int64
	conditional atomic.Int64
}

// cmdFeedServer starts a loopback feed server over DIR (files are read at
// each request, so a script can change them): `feed-server NAME DIR` sets
// $NAME to its URL.
func cmdFeedServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: feed-server NAME DIR")
	}
	fs := &feedServer{dir: ts.MkAbs(args[1])}
	fs.mode.Store("")
	srv := httptest.NewServer(http.HandlerFunc(fs.serve))
	ts.Defer(srv.Close)
	feedServers.Store(ts.Getenv("WORK")+"|"+args[0], fs)
	ts.Setenv(args[0], srv.URL)
}

func (fs *feedServer) serve(w http.ResponseWriter, r *http.Request) {
	fs.requests.Add(1)
	if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
		fs.conditional.Add(1)
	}
	body, err := os.ReadFile(filepath.Join(fs.dir, filepath.Clean("/"+r.URL.Path)))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", "Sun, 01 Mar 2026 10:00:00 GMT")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if fs.mode.Load() == "truncate" {
		// Announce the whole file, send half of it, hang up.
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	w.Write(body)
}

func lookupFeedServer(ts *testscript.TestScript, name string) *feedServer {
	v, ok := feedServers.Load(ts.Getenv("WORK") + "|" + name)
	if !ok {
		ts.Fatalf("no feed server %s", name)
	}
	return v.(*feedServer)
}

// cmdFeedServerMode changes how a feed server answers:
// `feed-server-mode NAME truncate` cuts every download short,
// `feed-server-mode NAME normal` serves files whole again.
func cmdFeedServerMode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 || (args[1] != "truncate" && args[1] != "normal") {
		ts.Fatalf("usage: feed-server-mode NAME truncate|normal")
	}
	mode := args[1]
	if mode == "normal" {
		mode = ""
	}
	lookupFeedServer(ts, args[0]).mode.Store(mode)
}

// cmdFeedRequests asserts how many requests a feed server got, and how
// many of them were conditional: `feed-requests NAME 6 3`.
func cmdFeedRequests(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: feed-requests NAME TOTAL CONDITIONAL")
	}
	fs := lookupFeedServer(ts, args[0])
	total, conditional := fs.requests.Load(), fs.conditional.Load()
	if fmt.Sprint(total) != args[1] || fmt.Sprint(conditional) != args[2] {
		ts.Fatalf("feed server %s got %d requests, %d conditional; want %s, %s", args[0], total, conditional, args[1], args[2])
	}
}

// cmdMakeCVD writes a ClamAV container, unsigned, from files of the
// script: `make-cvd daily.cvd daily.hsb daily.ndb`, with -badmd5 to state
// an MD5 in the header that is not the archive's.
func cmdMakeCVD(ts *testscript.TestScript, neg bool, args []string) {
	badMD5 := len(args) > 0 && args[0] == "-badmd5"
	if badMD5 {
		args = args[1:]
	}
	if neg || len(args) < 2 {
		ts.Fatalf("usage: make-cvd [-badmd5] OUT MEMBER...")
	}
	var archive bytes.Buffer
	gz := gzip.NewWriter(&archive)
	tw := tar.NewWriter(gz)
	for _, m := range args[1:] {
		body := []byte(ts.ReadFile(m))
		ts.Check(tw.WriteHeader(&tar.Header{Name: filepath.Base(m), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(body)
		ts.Check(err)
	}
	ts.Check(tw.Close())
	ts.Check(gz.Close())
	sum := md5.Sum(archive.Bytes())
	stated := hex.EncodeToString(sum[:])
	if badMD5 {
		stated = strings.Repeat("ab", 16)
	}
	header := fmt.Sprintf("ClamAV-VDB:01 Mar 2026 10-00 +0000:27000:%d:90:%s:unsigned:ksn-test:1772359200", len(args)-1, stated)
	header += strings.Repeat(" ", 512-len(header))
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), append([]byte(header), archive.Bytes()...), 0o644))
}
