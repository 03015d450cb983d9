//go:build linux

package main

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the driver the checks below read databases with
)

// The fault tests (faults_*_test.go, issue 20) kill the real binary at
// random moments and break its writes, then check that nothing was lost,
// nothing counted twice and every database is intact.
//
// KSN_FAULT_SEED=N replays a run's random choices (each test prints its
// seed; the moments of the kills depend on the machine's speed as well).
// KSN_FAULT_FULL=1 runs the full size: over 1,000 kill points in all.

// faultPlan is one test's random choices and size.
type faultPlan struct {
	seed uint64
	rng  *rand.Rand
	full bool
}

func newFaultPlan(t *testing.T) *faultPlan {
	t.Helper()
	p := &faultPlan{seed: rand.Uint64(), full: os.Getenv("KSN_FAULT_FULL") == "1"}
	if v := os.Getenv("KSN_FAULT_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("KSN_FAULT_SEED=%q: %v", v, err)
		}
		p.seed = s
	}
	p.rng = rand.New(rand.NewPCG(p.seed, p.seed^0x6b736e))
	t.Logf("seed %d (replay: KSN_FAULT_SEED=%d go test -run '^%s$' ./cmd/ksn)", p.seed, p.seed, t.Name())
	return p
}

// size is small in the ordinary test run, full with KSN_FAULT_FULL=1.
func (p *faultPlan) size(small, full int) int {
	if p.full {
		return full
	}
	return small
}

// delay picks a moment up to 1.2 × d: most kills land inside an operation
// that takes about d, some after it ended (which must be harmless too).
func (p *faultPlan) delay(d time.Duration) time.Duration {
	return time.Duration(p.rng.Int64N(int64(d)*6/5 + 1))
}

// killTally counts the kills of a test: tries, and those that landed
// while the process ran (the rest came after it had finished).
type killTally struct{ tries, landed int }

// kills calls kill (which kills once and checks what it left, true when
// the kill landed) until want kills landed, or 3 × want tries: how many
// land depends on the machine's load, the figures count those that did.
func (k *killTally) kills(want int, kill func(i int) bool) {
	for i, landed := 0, 0; landed < want && i < 3*want; i++ {
		k.tries++
		if kill(i) {
			landed++
			k.landed++
		}
	}
}

// ksnHome runs ksn with its own KSN_HOME.
type ksnHome struct {
	t   *testing.T
	dir string
	env []string
}

func newKsnHome(t *testing.T, dir string, env ...string) *ksnHome {
	return &ksnHome{t: t, dir: dir, env: append(append(os.Environ(), "KSN_HOME="+dir), env...)}
}

func (h *ksnHome) command(args ...string) *exec.Cmd {
	cmd := exec.Command("ksn", args...)
	cmd.Env = h.env
	return cmd
}

// run runs ksn to completion and returns its output and exit code.
func (h *ksnHome) run(args ...string) (stdout, stderr string, code int) {
	h.t.Helper()
	return h.run2("ksn", args...)
}

// run2 runs a program (a shell running ksn) in this home's environment.
func (h *ksnHome) run2(name string, args ...string) (stdout, stderr string, code int) {
	h.t.Helper()
	stdout, stderr, code, err := runProgram(h.env, name, args...)
	if err != nil {
		h.t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return stdout, stderr, code
}

// runProgram runs a program to its end in env: its output, its exit code,
// and an error only when it could not be run at all.
func runProgram(env []string, name string, args ...string) (stdout, stderr string, code int, err error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	var ee *exec.ExitError
	if err = cmd.Run(); errors.As(err, &ee) {
		code, err = ee.ExitCode(), nil
	}
	return o.String(), e.String(), code, err
}

// must runs ksn and fails the test unless it exits 0.
func (h *ksnHome) must(args ...string) string {
	h.t.Helper()
	out, errOut, code := h.run(args...)
	if code != 0 {
		h.t.Fatalf("ksn %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// timed runs ksn to completion and says how long it took: the scale of
// the moments a kill is then chosen from.
func (h *ksnHome) timed(args ...string) time.Duration {
	h.t.Helper()
	start := time.Now()
	h.must(args...)
	return time.Since(start)
}

// killAfter starts ksn, sends it SIGKILL after d and waits for it. It
// reports whether the kill ended it (rather than it having finished).
func (h *ksnHome) killAfter(d time.Duration, args ...string) bool {
	h.t.Helper()
	cmd := h.command(args...)
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	return killAfter(cmd, d)
}

// killAfter sends SIGKILL to a started command after d and waits for it;
// true when the signal ended it.
func killAfter(cmd *exec.Cmd, d time.Duration) bool {
	time.Sleep(d)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

var outboxID = regexp.MustCompile(`"id":"([0-9a-f]{32})"`)

// outboxIDs reads the outbox through `ksn queue show --json`, which must
// read it whole.
func (h *ksnHome) outboxIDs() map[string]bool {
	h.t.Helper()
	ids := map[string]bool{}
	for _, m := range outboxID.FindAllStringSubmatch(h.must("queue", "show", "--json"), -1) {
		if ids[m[1]] {
			h.t.Fatalf("the outbox holds record %s twice", m[1])
		}
		ids[m[1]] = true
	}
	return ids
}

// openSQLite opens a database file for the checks, waiting for locks.
func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(20000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

// assertIntact fails the test unless PRAGMA integrity_check says ok.
func assertIntact(t *testing.T, path string) {
	t.Helper()
	db := openSQLite(t, path)
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil {
		t.Fatalf("integrity_check of %s: %v", path, err)
	}
	if res != "ok" {
		t.Fatalf("integrity_check of %s: %s", path, res)
	}
}

// queryInt runs a query of one integer.
func queryInt(t *testing.T, path, query string) int64 {
	t.Helper()
	db := openSQLite(t, path)
	defer db.Close()
	var n int64
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %s: %v", path, query, err)
	}
	return n
}

// serverIDs returns the ids of the records a server database holds, and
// fails the test when an aggregate counted a record twice (or missed one):
// the records counted per day must equal the records stored.
func serverIDs(t *testing.T, path string) map[string]bool {
	t.Helper()
	db := openSQLite(t, path)
	defer db.Close()
	tx, err := db.Begin() // one snapshot for the ids and the counts
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	rows, err := tx.Query("SELECT lower(hex(id)) FROM sealed_submissions")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var counted int64
	if err := tx.QueryRow("SELECT coalesce(sum(records), 0) FROM daily_counts").Scan(&counted); err != nil {
		t.Fatal(err)
	}
	if counted != int64(len(ids)) {
		t.Fatalf("the server counted %d records per day but holds %d", counted, len(ids))
	}
	return ids
}

// ledger is every record id seen so far, in an outbox or on the server:
// once seen, a record must stay in one of them until it is on the server.
type ledger map[string]bool

// account checks that every id seen before is in the outbox or on the
// server now, and adds the ones seen for the first time.
func (l ledger) account(t *testing.T, when string, outbox, server map[string]bool) {
	t.Helper()
	lost := 0
	for id := range l {
		if !outbox[id] && !server[id] {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%s: %d records lost (neither in the outbox nor on the server)", when, lost)
	}
	for id := range outbox {
		l[id] = true
	}
	for id := range server {
		l[id] = true
	}
}

// writeFiles writes n small distinct files under dir, named by prefix.
func writeFiles(t *testing.T, dir, prefix string, n int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := filepath.Join(dir, fmt.Sprintf("%s%05d", prefix, i))
		if err := os.WriteFile(name, []byte(fmt.Sprintf("%s file %d\n", prefix, i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
