//go:build linux

package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/rogpeppe/go-internal/testscript"
)

// postJSON sends v to a ksn server's path with the license key, and
// decodes a 2xx answer into out (when not nil). It returns the status.
func postJSON(ts *testscript.TestScript, endpoint, key, path string, v, out any) int {
	b, err := json.Marshal(v)
	ts.Check(err)
	req, err := http.NewRequest(http.MethodPost, endpoint+path, bytes.NewReader(b))
	ts.Check(err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	if out != nil && resp.StatusCode/100 == 2 {
		ts.Check(json.NewDecoder(resp.Body).Decode(out))
	}
	return resp.StatusCode
}

// cmdSubmitCodes plays a license that makes participant codes up: it
// sends COUNT batches to a real server, each from a fresh random code and
// each with one file record of the SHA-256 of FILE, then looks the file
// up and prints "accepted N" and "prevalence P":
// `submit-codes $ENDPOINT keyfile 1000 shared.bin`.
func cmdSubmitCodes(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: submit-codes ENDPOINT KEYFILE COUNT FILE")
	}
	endpoint, key := args[0], strings.TrimSpace(ts.ReadFile(args[1]))
	n, err := strconv.Atoi(args[2])
	ts.Check(err)
	sum := sha256.Sum256([]byte(ts.ReadFile(args[3])))
	digest := hex.EncodeToString(sum[:])
	body := fmt.Sprintf(`{"digests":{"sha256":%q},"size":1,"verdict":"unknown","hash_ms":0.25}`, digest)
	accepted := 0
	for range n {
		code, id := make([]byte, 16), make([]byte, 16)
		rand.Read(code)
		rand.Read(id)
		batch := api.SubmissionBatch{Participant: hex.EncodeToString(code), Records: []api.Record{
			{ID: hex.EncodeToString(id), Kind: "file", CreatedAt: time.Now().UTC(), Body: json.RawMessage(body)}}}
		var res api.SubmissionResult
		if st := postJSON(ts, endpoint, key, api.PathSubmissions, batch, &res); st != http.StatusAccepted {
			ts.Fatalf("submission answered %d", st)
		}
		accepted += res.Accepted
	}
	var look api.FileLookupResponse
	req := api.FileLookupRequest{Items: []api.FileQuery{{Digests: map[string]string{"sha256": digest}}}}
	if st := postJSON(ts, endpoint, key, api.PathLookupFiles, req, &look); st != http.StatusOK {
		ts.Fatalf("lookup answered %d", st)
	}
	fmt.Fprintf(ts.Stdout(), "accepted %d\nprevalence %d\n", accepted, look.Results[0].Prevalence)
}

// cmdPost sends the JSON in FILE to PATH of a real server with the license
// key in KEYFILE and prints "status N" and the answer's body:
// `post $ENDPOINT key /v1/submissions batch.json`.
func cmdPost(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: post ENDPOINT KEYFILE PATH FILE")
	}
	req, err := http.NewRequest(http.MethodPost, args[0]+args[2], strings.NewReader(ts.ReadFile(args[3])))
	ts.Check(err)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(ts.ReadFile(args[1])))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "status %d\n%s", resp.StatusCode, body)
}
