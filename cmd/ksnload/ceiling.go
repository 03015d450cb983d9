package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

// knownDigest is the i-th digest the servers know: deterministic, so that
// the feed, the ceiling and the generator agree without sharing a file.
func knownDigest(seed string, i int) [32]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return sha256.Sum256(append([]byte(seed+"\x00"), b[:]...))
}

func runFeed(args []string) error {
	fs := flag.NewFlagSet("feed", flag.ExitOnError)
	var c corpusFlags
	c.register(fs)
	fs.Parse(args)
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	line := make([]byte, 65)
	line[64] = '\n'
	for i := range c.indicators {
		d := knownDigest(c.seed, i)
		hex.Encode(line, d[:])
		w.Write(line)
	}
	return w.Flush()
}

// runCeiling serves POST /v1/lookup/files from an in-memory map, doing what
// any server must (decode the batch, look every digest up, encode one
// result per item) and nothing a database adds. GET /v1/status answers
// so that a client can size its batches.
func runCeiling(args []string) error {
	fs := flag.NewFlagSet("ceiling", flag.ExitOnError)
	var c corpusFlags
	c.register(fs)
	listen := fs.String("listen", "127.0.0.1:0", "`ADDRESS` to listen on")
	addrFile := fs.String("addr-file", "", "write the URL and a newline to `FILE` once listening")
	fs.Parse(args)

	known := make(map[[32]byte]struct{}, c.indicators)
	for i := range c.indicators {
		known[knownDigest(c.seed, i)] = struct{}{}
	}
	seen := time.Now().UTC().Truncate(time.Second)
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+api.PathLookupFiles, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			http.Error(w, "no key", http.StatusUnauthorized)
			return
		}
		var req api.FileLookupRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20)).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp := api.FileLookupResponse{Results: make([]api.FileResult, len(req.Items))}
		for i, it := range req.Items {
			resp.Results[i].Verdict = "unknown"
			var d [32]byte
			if h := it.Digests["sha256"]; len(h) == 64 {
				if _, err := hex.Decode(d[:], []byte(h)); err == nil {
					if _, ok := known[d]; ok {
						resp.Results[i] = api.FileResult{Verdict: "clean", Category: "known-good", Sources: []string{"known-good"}, FirstSeen: &seen, LastSeen: &seen}
					}
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	})
	mux.HandleFunc("GET "+api.PathStatus, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(api.Status{License: api.License{State: "valid"},
			Limits: api.Limits{MaxBatch: api.MaxBatch, MaxBodyBytes: 4 << 20, ItemsPerSecond: 1e9, Burst: 1e9}})
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(os.Stderr, "ksnload ceiling: listening on %s (%d known digests)\n", url, c.indicators)
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile+".tmp", []byte(url+"\n"), 0o644); err != nil {
			return err
		}
		if err := os.Rename(*addrFile+".tmp", *addrFile); err != nil {
			return err
		}
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	return srv.Serve(ln)
}
