//go:build linux

package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// fileRecords counts the file records in the outbox.
func (h *ksnHome) fileRecords() int {
	h.t.Helper()
	return strings.Count(h.must("queue", "show", "--json"), `"kind":"file"`)
}

// TestIOFaultsCheck fails each write, fsync and truncate of a `ksn check`
// that keeps its records in the outbox (not participating) in turn. The
// check's verdicts stand (exit 0), its records are kept whole or, with a
// warning saying so, not at all; the databases stay intact and the next
// check keeps its records.
func TestIOFaultsCheck(t *testing.T) {
	t.Parallel() // mostly waiting on processes: two at once halve the wall time
	dir := t.TempDir()
	h := newKsnHome(t, filepath.Join(dir, "home"))
	files := filepath.Join(dir, "files")
	writeFiles(t, files, "io", 3)
	h.must("optout")
	// --rehash: every run observes every file again (the stat cache
	// would skip them).
	args := []string{"check", "-r", "--rehash", files}
	h.must(args...) // creates the databases, the stat cache and the day's system record
	state := filepath.Join(h.dir, "state", "participation.db")
	var before int
	swept, runs := h.faultSweep(func() { before = h.fileRecords() }, args, func(r faultRun) {
		assertFailedClearly(t, r, 2)
		assertIntact(t, state)
		assertIntact(t, filepath.Join(h.dir, "data", "reputation.db"))
		switch got := h.fileRecords() - before; {
		case got == 0 && !strings.Contains(r.stderr, "ksn: warning: "):
			t.Fatalf("the run's records were not kept and no warning said so: %v", r)
		case got != 0 && got != 3:
			t.Fatalf("%d of the run's 3 records kept: %v", got, r)
		}
		n := h.fileRecords()
		h.must(args...)
		if got := h.fileRecords() - n; got != 3 {
			t.Fatalf("the check after the fault kept %d records, want 3: %v", got, r)
		}
	})
	t.Logf("ksn check (outbox): %d runs with a fault injected (%s)", runs, swept)
}
