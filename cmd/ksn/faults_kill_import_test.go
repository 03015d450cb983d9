//go:build linux

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeBazaarFeed writes a MalwareBazaar CSV of n random samples (each
// line states a SHA-256, an MD5 and a SHA-1).
func writeBazaarFeed(t *testing.T, plan *faultPlan, path string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# \"first_seen_utc\",\"sha256_hash\",\"md5_hash\",\"sha1_hash\",\"reporter\",\"file_name\",\"file_type_guess\",\"mime_type\",\"signature\",\"clamav\",\"vtpercent\",\"imphash\",\"ssdeep\",\"tlsh\"\n")
	hex := func(n int) string {
		var s strings.Builder
		for range n / 16 {
			fmt.Fprintf(&s, "%016x", plan.rng.Uint64())
		}
		return s.String()
	}
	for range n {
		fmt.Fprintf(&b, "\"2024-03-01 10:12:45\", \"%s\", \"%s\", \"%s%08x\", \"r\", \"f.exe\", \"exe\", \"application/x-dosexec\", \"FaultSig\", \"n/a\", \"n/a\", \"n/a\", \"n/a\", \"n/a\"\n",
			hex(64), hex(32), hex(32), plan.rng.Uint32())
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

const countImported = "SELECT count(*) FROM file_indicators WHERE source = 'malwarebazaar'"

// TestKillImport kills `ksn feed import` at random moments, into an
// existing database (holding an earlier import) and into a new one. After
// every kill the database is intact and holds the new feed wholly or not
// at all; running the import again then completes it.
func TestKillImport(t *testing.T) {
	t.Parallel() // mostly waiting on processes: two at once halve the wall time
	plan := newFaultPlan(t)
	dir := t.TempDir()
	h := newKsnHome(t, filepath.Join(dir, "home"))
	const lines = 6000
	// The scale: a whole import of such a feed into a new database, which
	// also fixes how many rows a feed of this size makes.
	first := filepath.Join(dir, "first.csv")
	writeBazaarFeed(t, plan, first, lines)
	existing := filepath.Join(dir, "existing.db")
	took := h.timed("feed", "import", "--db", existing, first)
	rows := queryInt(t, existing, countImported)
	if rows < lines {
		t.Fatalf("a feed of %d lines made %d rows", lines, rows)
	}
	rounds, perRound := plan.size(3, 30), 5
	var k killTally
	for r := range rounds {
		feed := filepath.Join(dir, fmt.Sprintf("feed%d.csv", r))
		writeBazaarFeed(t, plan, feed, lines)
		// Into the existing database: before or after, nothing between.
		before := queryInt(t, existing, countImported)
		k.kills(perRound, func(i int) bool {
			landed := h.killAfter(plan.delay(took), "feed", "import", "--db", existing, feed)
			assertIntact(t, existing)
			if n := queryInt(t, existing, countImported); n != before && n != before+rows {
				t.Fatalf("round %d, kill %d: %d rows after the kill: neither %d (before) nor %d (after): an import is half-visible",
					r, i+1, n, before, before+rows)
			}
			return landed
		})
		h.must("feed", "import", "--db", existing, feed)
		if n := queryInt(t, existing, countImported); n != before+rows {
			t.Fatalf("round %d: %d rows after a whole import, want %d", r, n, before+rows)
		}
		// Into a new database: afterwards there is none, or a whole one.
		fresh := filepath.Join(dir, fmt.Sprintf("new%d.db", r))
		k.kills(perRound, func(i int) bool {
			landed := h.killAfter(plan.delay(took), "feed", "import", "--db", fresh, feed)
			assertNoneOrWhole(t, fresh, rows, fmt.Sprintf("round %d, kill %d", r, i+1))
			return landed
		})
		h.must("feed", "import", "--db", fresh, feed)
		assertNoneOrWhole(t, fresh, rows, fmt.Sprintf("round %d, whole import", r))
		if _, err := os.Stat(fresh); err != nil {
			t.Fatalf("round %d: after a whole import: %v", r, err)
		}
	}
	t.Logf("ksn feed import (%v a run, %d rows): %d kills, %d landed while it ran",
		took.Round(time.Millisecond), rows, k.tries, k.landed)
}

// assertNoneOrWhole fails unless the database at path is absent or intact
// and holding the whole import of rows rows (or none of it, from a run
// killed before it imported).
func assertNoneOrWhole(t *testing.T, path string, rows int64, when string) {
	t.Helper()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return
	}
	assertIntact(t, path)
	if n := queryIntIfTable(t, path); n != 0 && n != rows {
		t.Fatalf("%s: %d rows in the new database, neither 0 nor %d: an import is half-visible", when, n, rows)
	}
}

// queryIntIfTable counts the imported rows, 0 when the schema is not
// there yet (a run killed while it created the database).
func queryIntIfTable(t *testing.T, path string) int64 {
	t.Helper()
	if queryInt(t, path, "SELECT count(*) FROM sqlite_master WHERE name = 'file_indicators'") == 0 {
		return 0
	}
	return queryInt(t, path, countImported)
}
