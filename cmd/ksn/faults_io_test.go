//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// I/O errors at every write: strace's fault injection makes the k-th
// call of a system call fail, for k = 1, 2, ... until a run in which no
// call was failed. strace counts calls per thread, so k is "the k-th
// write of the thread that reaches k first": a sweep fails every write
// of the busiest thread and many of the others.

// faultClasses are the calls a sweep fails, one class at a time: SQLite
// writes with pwrite64 and makes its writes durable with fsync or
// fdatasync; ftruncate shrinks and grows the -wal and -shm files.
var faultClasses = []struct{ name, calls, errno string }{
	{"write", "pwrite64", "EIO"},
	{"write, disk full", "pwrite64", "ENOSPC"},
	{"fsync", "fsync,fdatasync", "EIO"},
	{"truncate", "ftruncate", "EIO"},
}

// faultRun is one run of ksn with a fault injected.
type faultRun struct {
	k              int
	class          string
	stdout, stderr string
	code           int
	injected       int // how many calls failed
}

func (r faultRun) String() string {
	return fmt.Sprintf("%s fault at call %d (exit %d, %d calls failed)\nstderr:\n%s", r.class, r.k, r.code, r.injected, r.stderr)
}

// needStrace skips a test when strace is missing, or fails it under CI=1.
func needStrace(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("strace")
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "1" {
		t.Fatal("strace is missing: .ci/run installs it; the I/O fault tests need it")
	}
	t.Skip("strace is missing (apt-get install strace): I/O faults not injected")
	return ""
}

// faultSweep runs prepare and then ksn args under strace, failing call k
// of one class of calls, for every k and every class until nothing is
// failed; check asserts what each run left. It returns what it swept:
// the calls failed per class, and how many runs had a fault injected.
func (h *ksnHome) faultSweep(prepare func(), args []string, check func(faultRun)) (string, int) {
	h.t.Helper()
	strace := needStrace(h.t)
	log := filepath.Join(h.t.TempDir(), "strace.log")
	runs := 0
	var swept []string
	for _, class := range faultClasses {
		for k := 1; ; k++ {
			prepare()
			cmd := straceKsn(strace, log, class.calls, class.errno, k, args)
			cmd.Env = h.env
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			err := cmd.Run()
			r := faultRun{k: k, class: class.name, stdout: o.String(), stderr: e.String()}
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				r.code = ee.ExitCode()
			} else if err != nil {
				h.t.Fatal(err)
			}
			r.injected = injected(h.t, log)
			if r.injected == 0 {
				// k is past the last call: the sweep of this class is over.
				swept = append(swept, fmt.Sprintf("%s k=1..%d", class.name, k-1))
				break
			}
			runs++
			check(r)
		}
	}
	return strings.Join(swept, ", "), runs
}

// straceKsn is ksn args under strace, which fails call k (counted per
// thread) of the comma-separated calls with errno and logs them to log.
func straceKsn(strace, log, calls, errno string, k int, args []string) *exec.Cmd {
	return exec.Command(strace, append([]string{"-f", "-qq", "-o", log,
		"-e", "trace=" + calls,
		"-e", fmt.Sprintf("inject=%s:error=%s:when=%d", calls, errno, k),
		"ksn"}, args...)...)
}

// injected counts the calls strace failed, from its log.
func injected(t *testing.T, log string) int {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "(INJECTED)")
}

// assertFailedClearly fails the test unless a run either succeeded or
// ended with exit code want and an error message saying what failed.
func assertFailedClearly(t *testing.T, r faultRun, want int) {
	t.Helper()
	if r.code == 0 {
		return
	}
	if r.code != want {
		t.Fatalf("exit %d, want %d or 0: %v", r.code, want, r)
	}
	if !strings.Contains(r.stderr, "ksn: ") || !ioWords(r.stderr) {
		t.Fatalf("the error does not say what failed: %v", r)
	}
}

// ioWords reports whether a message names an I/O failure in words a user
// can act on.
func ioWords(s string) bool {
	for _, w := range []string{"I/O error", "disk full", "no space left", "input/output error", "database or disk is full", "file too large"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// copyDB copies a database that no process has open: its -wal is
// checkpointed into it first, and the copy has none.
func copyDB(t *testing.T, from, to string) {
	t.Helper()
	db := openSQLite(t, from)
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(to + suffix)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
