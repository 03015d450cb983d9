//go:build linux

package main

import (
	"path/filepath"
	"testing"
)

// TestIOFaultsImport fails each write, fsync and truncate of `ksn feed
// import` into an existing database in turn: every run either succeeds
// with the whole feed imported or exits 2 saying what failed with none of
// it imported, the database stays intact, and importing again then
// imports it whole.
func TestIOFaultsImport(t *testing.T) {
	t.Parallel() // mostly waiting on processes: two at once halve the wall time
	plan := newFaultPlan(t)
	dir := t.TempDir()
	h := newKsnHome(t, filepath.Join(dir, "home"))
	base, db := filepath.Join(dir, "base.db"), filepath.Join(dir, "work.db")
	first, feed := filepath.Join(dir, "first.csv"), filepath.Join(dir, "feed.csv")
	writeBazaarFeed(t, plan, first, 50)
	writeBazaarFeed(t, plan, feed, plan.size(100, 3000))
	h.must("feed", "import", "--db", base, first)
	before := queryInt(t, base, countImported)
	copyDB(t, base, db)
	h.must("feed", "import", "--db", db, feed)
	after := queryInt(t, db, countImported)

	args := []string{"feed", "import", "--db", db, feed}
	swept, runs := h.faultSweep(func() { copyDB(t, base, db) }, args, func(r faultRun) {
		assertFailedClearly(t, r, 2)
		assertIntact(t, db)
		n := queryInt(t, db, countImported)
		switch {
		case r.code == 0 && n != after:
			t.Fatalf("the import succeeded with %d rows, want %d: %v", n, after, r)
		case r.code != 0 && n != before:
			t.Fatalf("the import failed with %d rows, want %d (none of it): %v", n, before, r)
		}
		h.must(args...)
		if n := queryInt(t, db, countImported); n != after {
			t.Fatalf("importing again after the fault: %d rows, want %d: %v", n, after, r)
		}
	})
	t.Logf("ksn feed import: %d runs with a fault injected (%s)", runs, swept)
}
