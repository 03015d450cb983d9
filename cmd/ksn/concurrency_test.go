//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

// TestConcurrentClients runs 8 `ksn check` and 2 `ksn optin` deliveries
// at once on one KSN_HOME, against a real server, with a backlog collected
// before: every record reaches the server exactly once (by id, and once in
// its aggregates), one system record for the day however many runs raced
// for it, and every database of the state directory passes
// integrity_check.
func TestConcurrentClients(t *testing.T) {
	s := startNetServer(t)
	p := startFaultProxy(t, s.hostPort())
	c := newClient(t, s, p.URL())
	c.must("optout")
	c.must(append([]string{"check"}, c.files("backlog", 50)...)...)
	backlog := c.outbox()
	before, counted := s.ids(), s.counted()

	const checks, perCheck = 8, 20
	var wg sync.WaitGroup
	errs := make(chan string, checks+2)
	for i := range checks + 2 {
		args := []string{"optin", "--accept"}
		if i < checks {
			args = append([]string{"check"}, c.files(fmt.Sprint("c", i), perCheck)...)
		}
		wg.Go(func() {
			if out, errOut, code := c.run(args...); code != 0 {
				errs <- fmt.Sprintf("ksn %s: exit %d\n%s%s", args[0], code, out, errOut)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	c.must("optin", "--accept") // what raced past a delivery goes now
	assertExactlyOnce(t, s, c, p, before, counted)
	added := diff(s.ids(), before)
	if want := len(backlog) + checks*perCheck; len(added) != want {
		t.Errorf("%d records stored, want %d (the backlog's %d, with its system record, and %d files)", len(added), want, len(backlog), checks*perCheck)
	}
	if lost := diff(backlog, s.ids()); len(lost) > 0 {
		t.Errorf("%d backlog records lost", len(lost))
	}
	assertAllIntact(t, c.home)
}

// assertAllIntact runs PRAGMA integrity_check on every SQLite database under
// dir.
func assertAllIntact(t *testing.T, dir string) {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".db") {
			n++
			assertIntact(t, path)
		}
		return nil
	})
	if n == 0 {
		t.Errorf("no database under %s", dir)
	}
}

// TestTwoServersOneSQLite: two `ksn serve` processes on one SQLite file
// are correct (not refused): SQLite's locking serialises their writes,
// and a record id stored by one is a duplicate for the other. The same
// records go to both at once, in overlapping batches: each is stored, and
// counted, once.
func TestTwoServersOneSQLite(t *testing.T) {
	s := startNetServer(t, "--submit-rate", "1e9", "--submit-burst", "1000000000")
	home := filepath.Join(s.dir, "home")
	addr := filepath.Join(s.dir, "addr2")
	second := exec.Command("ksn", "serve", "--listen", "127.0.0.1:0", "--db", s.db, "--addr-file", addr,
		"--submit-rate", "1e9", "--submit-burst", "1000000000")
	second.Env = append(os.Environ(), "KSN_HOME="+home)
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Process.Kill(); second.Wait() })
	urls := []string{s.url, waitAddr(t, addr)}
	counted := s.counted()

	const total, batch = 2000, 100
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for si, url := range urls {
		for w := range 4 {
			wg.Go(func() {
				// Each worker sends every record of its stripe; both
				// servers get every stripe.
				for first := w * batch; first < total; first += 4 * batch {
					var recs []api.Record
					for i := first; i < first+batch; i++ {
						// One creation time for all: fileRecord's is the
						// current second, and the same id sent with another
						// time is another record (422, id reused).
						r := fileRecord(i)
						r.CreatedAt = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
						recs = append(recs, r)
					}
					res, status := postBatch(url, s.key, api.SubmissionBatch{Participant: fmt.Sprintf("%032x", si+1), Records: recs})
					if status != http.StatusAccepted {
						t.Errorf("server %d: status %d", si, status)
						return
					}
					mu.Lock()
					accepted += res.Accepted
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if got := len(s.ids()); got != total {
		t.Errorf("%d records stored, want %d", got, total)
	}
	if accepted != total {
		t.Errorf("the servers accepted %d new records of %d sent twice each", accepted, total)
	}
	if got := s.counted() - counted; got != total {
		t.Errorf("aggregates counted %d records, want %d", got, total)
	}
	assertAllIntact(t, s.dir)
}

func postBatch(url, key string, b api.SubmissionBatch) (api.SubmissionResult, int) {
	var res api.SubmissionResult
	body, _ := json.Marshal(b)
	req, _ := http.NewRequest(http.MethodPost, url+api.PathSubmissions, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return res, 0
	}
	defer resp.Body.Close()
	if json.NewDecoder(resp.Body).Decode(&res) != nil {
		return res, 0
	}
	return res, resp.StatusCode
}
