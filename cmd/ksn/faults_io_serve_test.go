//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

// TestIOFaultsServe fails each write, fsync and truncate of `ksn serve`
// in turn, from its start through the ingest of three batches. A server
// that cannot start exits 2 saying why; a batch it could not store is
// refused, and one it accepted (202) is stored. Either way the database
// stays intact, counts nothing twice, and a server started again on it
// then takes every batch.
func TestIOFaultsServe(t *testing.T) {
	t.Parallel() // mostly waiting on processes: two at once halve the wall time
	strace := needStrace(t)
	dir := t.TempDir()
	srv := newFaultServer(t, dir)
	// A first record makes the half-year's data key, in the database and
	// the key directory, before the database is copied for each run.
	if !submit(srv, api.SubmissionBatch{Participant: fmt.Sprintf("%032x", 1), Records: []api.Record{fileRecord(0)}}) {
		t.Fatal("the first record was refused")
	}
	srv.kill()
	base := filepath.Join(dir, "base.db")
	copyDB(t, srv.db, base)
	var batches []api.SubmissionBatch
	for b := range 3 {
		batch := api.SubmissionBatch{Participant: fmt.Sprintf("%032x", b+2)}
		for i := range 10 {
			batch.Records = append(batch.Records, fileRecord(1000+10*b+i))
		}
		batches = append(batches, batch)
	}
	log := filepath.Join(t.TempDir(), "strace.log")
	runs, failedStarts, refused := 0, 0, 0
	var swept []string
	for _, class := range faultClasses {
		for k := 1; ; k++ {
			copyDB(t, base, srv.db)
			cmd := straceKsn(strace, log, class.calls, class.errno, k, srv.args())
			cmd.Env = srv.home.env
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // strace and ksn end together
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			accepted := map[string]bool{}
			if waitServing(srv.addrFile(), exited) {
				for _, b := range batches {
					if submit(srv, b) {
						for _, r := range b.Records {
							accepted[r.ID] = true
						}
					} else {
						refused++
					}
				}
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			} else {
				failedStarts++
				r := faultRun{k: k, class: class.name, stderr: stderr.String(), code: exitCode(<-exited)}
				r.injected = injected(t, log)
				if r.code == 0 {
					t.Fatalf("ksn serve exited 0 without serving: %v", r)
				}
				assertFailedClearly(t, r, 2)
			}
			if injected(t, log) == 0 {
				swept = append(swept, fmt.Sprintf("%s k=1..%d", class.name, k-1))
				break
			}
			runs++
			assertIntact(t, srv.db)
			ids := serverIDs(t, srv.db) // and no record counted twice
			for id := range accepted {
				if !ids[id] {
					t.Fatalf("%s fault at call %d: record %s was accepted (202) but is not stored", class.name, k, id)
				}
			}
			srv.start()
			for _, b := range batches {
				for !submit(srv, b) {
					time.Sleep(10 * time.Millisecond)
				}
			}
			srv.kill()
			if ids := serverIDs(t, srv.db); len(ids) != 31 {
				t.Fatalf("%s fault at call %d: after a restart the server holds %d records, want 31", class.name, k, len(ids))
			}
		}
	}
	t.Logf("ksn serve: %d runs with a fault injected (%v): %d failed to start, %d batches refused",
		runs, swept, failedStarts, refused)
}

// waitServing waits until a server wrote its address file (true) or
// exited (false); exited then still holds its Wait error.
func waitServing(addrFile string, exited chan error) bool {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(addrFile); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			return true
		}
		select {
		case err := <-exited:
			exited <- err
			return false
		default:
		}
	}
	return false
}

// exitCode is the exit status a Wait error says.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
