//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/store/storetest"
)

// lockedBuffer is a process's standard error, read while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveAs starts `ksn serve` on rs's database as a machine whose ksn home
// is home would; it returns the replica's URL once it listens, or "" and
// its standard error when it exits first.
func (rs *replicaSet) serveAs(home string, flags ...string) (url, stderr string) {
	rs.t.Helper()
	addr := filepath.Join(rs.dir, fmt.Sprintf("addr-%d", time.Now().UnixNano()))
	args := append([]string{"serve", "--db", rs.dsn, "--listen", "127.0.0.1:0", "--addr-file", addr, "--replicas", "3"}, flags...)
	cmd := exec.Command("ksn", args...)
	cmd.Env = append(os.Environ(), "KSN_HOME="+home)
	var errOut lockedBuffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		rs.t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	rs.t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				rs.t.Errorf("ksn serve exited with %v, want the usage error (2)", err)
			}
			return "", errOut.String()
		case <-time.After(20 * time.Millisecond):
		}
		if b, err := os.ReadFile(addr); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			return strings.TrimSpace(string(b)), errOut.String()
		}
	}
	rs.t.Fatalf("ksn serve %s neither listened nor exited", strings.Join(flags, " "))
	return "", ""
}

// TestReplicasShareKeyDir: replicas on one machine share the default key
// directory and key-encryption key of the state directory; a replica on
// another machine (another ksn home) starts only with a copy of the KEK
// and the same key directory (a shared mount), and is refused, saying
// why, with its own.
func TestReplicasShareKeyDir(t *testing.T) {
	rs := &replicaSet{t: t, dsn: storetest.PostgresDSN(t), dir: t.TempDir()}
	homeA, homeB := filepath.Join(rs.dir, "a"), filepath.Join(rs.dir, "b")
	cmd := exec.Command("ksn", "admin", "--db", rs.dsn, "license", "create", "--label", "keys")
	cmd.Env = append(os.Environ(), "KSN_HOME="+homeA)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	rs.key = strings.TrimSpace(string(out))

	// Two replicas on machine A, started at once: one makes the KEK.
	var urls [2]string
	var errs [2]string
	var wg sync.WaitGroup
	for i := range urls {
		wg.Go(func() { urls[i], errs[i] = rs.serveAs(homeA) })
	}
	wg.Wait()
	if urls[0] == "" || urls[1] == "" {
		t.Fatalf("replicas on one machine did not start:\n%s\n%s", errs[0], errs[1])
	}
	keyDir := regexp.MustCompile(`data keys in (\S+) `).FindStringSubmatch(errs[0])
	kek := regexp.MustCompile(`key-encryption key (\S+?\.kek)`).FindStringSubmatch(errs[0])
	if keyDir == nil || kek == nil {
		t.Fatalf("the replica did not say where its keys are:\n%s", errs[0])
	}
	submit := func(url string, n int) {
		t.Helper()
		var res api.SubmissionResult
		batch := api.SubmissionBatch{Participant: fmt.Sprintf("%032x", n+1), Records: []api.Record{fileRecord(n)}}
		if st := rs.post(url, api.PathSubmissions, batch, &res); st != http.StatusAccepted || res.Accepted != 1 {
			t.Errorf("submission %d through %s: status %d, %+v", n, url, st, res)
		}
	}
	submit(urls[0], 0)
	submit(urls[1], 1)

	// Machine B: without the KEK, then with it but its own key directory.
	if url, stderr := rs.serveAs(homeB, "--key-dir", keyDir[1]); url != "" || !strings.Contains(stderr, "key-encryption key") {
		t.Errorf("a replica without the KEK: %q\n%s", url, stderr)
	}
	kekCopy := filepath.Join(rs.dir, "kek-copy")
	if b, err := os.ReadFile(kek[1]); err != nil || os.WriteFile(kekCopy, b, 0o600) != nil {
		t.Fatal(err)
	}
	if url, stderr := rs.serveAs(homeB, "--kek-file", kekCopy); url != "" || !strings.Contains(stderr, "lacks the data key") {
		t.Errorf("a replica with a key directory of its own: %q\n%s", url, stderr)
	}
	url, stderr := rs.serveAs(homeB, "--kek-file", kekCopy, "--key-dir", keyDir[1])
	if url == "" {
		t.Fatalf("a replica with the shared key directory:\n%s", stderr)
	}
	submit(url, 2)
	if n := rs.storedRecords(); n != 3 {
		t.Errorf("%d records stored, want 3", n)
	}
}
