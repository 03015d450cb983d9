//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/store/storetest"
)

// replicaSet is several `ksn serve` processes on one PostgreSQL database,
// as an operator runs them behind a load balancer.
type replicaSet struct {
	t    *testing.T
	dsn  string
	dir  string
	kek  string
	key  string // a license's key
	urls []string
	cmds []*exec.Cmd
}

// startReplicas makes a license and a key-encryption key for a fresh
// database and starts n replicas on it with the given extra flags; the
// test's cleanup stops them.
func startReplicas(t *testing.T, n int, flags ...string) *replicaSet {
	t.Helper()
	rs := &replicaSet{t: t, dsn: storetest.PostgresDSN(t), dir: t.TempDir()}
	rs.kek = filepath.Join(rs.dir, "kek")
	rs.ksn("admin", "--db", rs.dsn, "keygen", "--out", rs.kek)
	rs.key = strings.TrimSpace(rs.ksn("admin", "--db", rs.dsn, "license", "create", "--label", "replicas"))
	for i := range n {
		addr := filepath.Join(rs.dir, fmt.Sprint("addr", i))
		args := append([]string{"serve", "--db", rs.dsn, "--kek-file", rs.kek, "--listen", "127.0.0.1:0",
			"--addr-file", addr, "--replicas", strconv.Itoa(n)}, flags...)
		cmd := exec.Command("ksn", args...)
		cmd.Env = append(os.Environ(), "KSN_HOME="+filepath.Join(rs.dir, "home"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		rs.cmds = append(rs.cmds, cmd)
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		rs.urls = append(rs.urls, waitAddr(t, addr))
	}
	return rs
}

// ksn runs a ksn command to completion and returns its standard output.
func (rs *replicaSet) ksn(args ...string) string {
	rs.t.Helper()
	cmd := exec.Command("ksn", args...)
	cmd.Env = append(os.Environ(), "KSN_HOME="+filepath.Join(rs.dir, "home"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		rs.t.Fatalf("ksn %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func waitAddr(t *testing.T, file string) string {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(file); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			return strings.TrimSpace(string(b))
		}
	}
	t.Fatalf("no replica wrote %s", file)
	return ""
}

// post sends one request and decodes a 2xx answer into out; it returns
// the status, 0 when the replica did not answer at all.
func (rs *replicaSet) post(url, path string, in, out any) int {
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, url+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+rs.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 && out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return 0
		}
	}
	return resp.StatusCode
}

// storedRecords counts the sealed records in the database.
func (rs *replicaSet) storedRecords() int {
	rs.t.Helper()
	db, err := store.OpenPostgresServer(context.Background(), rs.dsn)
	if err != nil {
		rs.t.Fatal(err)
	}
	defer db.Close()
	st, err := db.Stats(context.Background())
	if err != nil {
		rs.t.Fatal(err)
	}
	return st.Submissions
}

func fileRecord(n int) api.Record {
	sum := sha256.Sum256([]byte(fmt.Sprint("replica file ", n%997)))
	return api.Record{ID: fmt.Sprintf("%032x", n+1), Kind: "file", CreatedAt: time.Now().UTC().Truncate(time.Second),
		Body: json.RawMessage(fmt.Sprintf(`{"digests":{"sha256":"%x"},"size":%d,"verdict":"unknown","hash_ms":0.5}`, sum, n))}
}

// TestReplicasSubmissions sends N records from 8 clients through three
// replicas in turn, retrying every failed batch on the next replica, and
// kills one replica (SIGKILL) mid-run: exactly N records are stored.
// KSN_REPLICA_RECORDS sets N (default 4,000; the figures used
// more).
func TestReplicasSubmissions(t *testing.T) {
	total := 4000
	if v, err := strconv.Atoi(os.Getenv("KSN_REPLICA_RECORDS")); err == nil && v > 0 {
		total = v
	}
	rs := startReplicas(t, 3, "--rate", "1e9", "--burst", "1000000000")
	const clients, batch = 8, 50
	var next, sent, accepted, retries atomic.Int64
	killAt := int64(total / 3)
	var killOnce sync.Once
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			participant := fmt.Sprintf("%032x", c+1)
			for first := c * batch; first < total; first += clients * batch {
				var recs []api.Record
				for i := first; i < min(first+batch, total); i++ {
					recs = append(recs, fileRecord(i))
				}
				for attempt := 0; ; attempt++ {
					if attempt > 200 {
						t.Errorf("batch at %d: no replica took it", first)
						return
					}
					url := rs.urls[next.Add(1)%int64(len(rs.urls))]
					var res api.SubmissionResult
					if st := rs.post(url, api.PathSubmissions, api.SubmissionBatch{Participant: participant, Records: recs}, &res); st == http.StatusAccepted {
						accepted.Add(int64(res.Accepted))
						break
					}
					retries.Add(1)
					time.Sleep(10 * time.Millisecond)
				}
				if sent.Add(int64(len(recs))) >= killAt {
					killOnce.Do(func() { rs.cmds[0].Process.Kill() })
				}
			}
		})
	}
	wg.Wait()
	stored := rs.storedRecords()
	t.Logf("%d records from %d clients, one of 3 replicas killed after %d: %d stored, %d accepted, %d retries",
		total, clients, killAt, stored, accepted.Load(), retries.Load())
	if stored != total {
		t.Errorf("%d records stored, want exactly %d", stored, total)
	}
	if accepted.Load() > int64(total) {
		t.Errorf("replicas accepted %d new records of %d: some twice", accepted.Load(), total)
	}
}
