//go:build linux

package main

import (
	"path/filepath"
	"strconv"
	"testing"
)

// importFixture is a database holding a first small import (base), the
// path of its working copy (db) and a feed of lines lines to import into it.
type importFixture struct {
	h              *ksnHome
	base, db, feed string
	before         int64 // rows in base
}

func newImportFixture(t *testing.T, plan *faultPlan, lines int) importFixture {
	t.Helper()
	dir := t.TempDir()
	fx := importFixture{h: newKsnHome(t, filepath.Join(dir, "home")),
		base: filepath.Join(dir, "base.db"), db: filepath.Join(dir, "work.db"), feed: filepath.Join(dir, "feed.csv")}
	first := filepath.Join(dir, "first.csv")
	writeBazaarFeed(t, plan, first, 50)
	writeBazaarFeed(t, plan, fx.feed, lines)
	fx.h.must("feed", "import", "--db", fx.base, first)
	fx.before = queryInt(t, fx.base, countImported)
	return fx
}

// TestIOFaultsImport fails each write, fsync and truncate of `ksn feed
// import` into an existing database in turn: every run either succeeds
// with the whole feed imported or exits 2 saying what failed with none of
// it imported, the database stays intact, and importing again then
// imports it whole.
func TestIOFaultsImport(t *testing.T) {
	t.Parallel() // mostly waiting on processes: two at once halve the wall time
	plan := newFaultPlan(t)
	fx := newImportFixture(t, plan, plan.size(100, 3000))
	h, base, db, feed, before := fx.h, fx.base, fx.db, fx.feed, fx.before
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

// TestFileSizeLimitImport imports a feed into an existing database under
// a file size limit (ulimit -f: writes past it fail with EFBIG; Go ignores
// SIGXFSZ) from 32 KiB up, by 32 KiB (every 4 KiB, a page, with
// KSN_FAULT_FULL=1), until it fits: every run fails cleanly with none of
// the feed imported or succeeds with all of it, and the database stays
// intact and usable.
func TestFileSizeLimitImport(t *testing.T) {
	t.Parallel() // mostly waiting on processes: two at once halve the wall time
	plan := newFaultPlan(t)
	fx := newImportFixture(t, plan, 3000)
	h, base, db, feed, before := fx.h, fx.base, fx.db, fx.feed, fx.before
	step := plan.size(32, 4)
	runs := 0
	for limit := step; ; limit += step {
		if limit > 64<<10 {
			t.Fatal("the import did not fit under a 64 MiB limit")
		}
		copyDB(t, base, db)
		// The shell's ulimit, not Go's: the limit binds ksn alone.
		_, errOut, code := h.run2("sh", "-c", `ulimit -f "$0" && exec ksn feed import --db "$1" "$2"`,
			strconv.Itoa(limit), db, feed)
		assertIntact(t, db)
		n := queryInt(t, db, countImported)
		if code == 0 {
			if n != before+3000 {
				t.Fatalf("under %d KiB: the import succeeded with %d rows, want %d", limit, n, before+3000)
			}
			t.Logf("ksn feed import under a file size limit: %d runs (%d to %d KiB by %d) failed cleanly, then it fit",
				runs, step, limit-step, step)
			return
		}
		runs++
		if code != 2 || !ioWords(errOut) || n != before {
			t.Fatalf("under %d KiB: exit %d with %d rows (want 2, %d rows, the failure in words):\n%s", limit, code, n, before, errOut)
		}
		h.must("feed", "import", "--db", db, feed)
		if n := queryInt(t, db, countImported); n != before+3000 {
			t.Fatalf("under %d KiB: importing again without a limit: %d rows, want %d", limit, n, before+3000)
		}
	}
}
