package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/pressly/goose/v3"
)

// The EICAR test file by its digests (the file itself is nowhere in the
// code: antivirus scanners flag binaries that contain it).
var (
	eicarSHA256 = mustHex("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f")
	eicarBLAKE3 = mustHex("460c1ec9a3e1b5536927aac78cee9c39782626d30f0ae0917ce95dda77068e09")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func randomDigest(alg checksum.Algorithm) []byte {
	b := make([]byte, alg.Size())
	rand.Read(b)
	return b
}

// Environment of the helper process of TestConcurrentOpenProcesses.
const (
	helperPathEnv  = "KSN_STORE_TEST_OPEN_PATH"
	helperStartEnv = "KSN_STORE_TEST_OPEN_AT"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(helperPathEnv); path != "" {
		os.Exit(helperOpen(path))
	}
	os.Exit(m.Run())
}

// helperOpen is the body of a helper process: open path at the agreed
// moment, look EICAR up, report.
func helperOpen(path string) int {
	at, err := strconv.ParseInt(os.Getenv(helperStartEnv), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad", helperStartEnv, err)
		return 2
	}
	time.Sleep(time.Until(time.Unix(0, at)))
	ctx := context.Background()
	s, err := OpenLocal(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	defer s.Close()
	res, err := s.LookupFiles(ctx, []FileDigests{{checksum.SHA256: eicarSHA256}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lookup:", err)
		return 1
	}
	if res[0].Verdict != reputation.Malicious {
		fmt.Fprintf(os.Stderr, "EICAR: got %+v\n", res[0])
		return 1
	}
	return 0
}

func openTemp(t testing.TB) (*Local, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", DefaultFileName)
	s, err := OpenLocal(context.Background(), path)
	if err != nil {
		t.Fatalf("OpenLocal: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// openServerTemp is openTemp for a server database.
func openServerTemp(t testing.TB) (*Server, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", DefaultServerFileName)
	s, err := OpenServer(context.Background(), path)
	if err != nil {
		t.Fatalf("OpenServer: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func lookupOne(t *testing.T, s Store, q FileDigests) reputation.Result {
	t.Helper()
	res, err := s.LookupFiles(context.Background(), []FileDigests{q})
	if err != nil {
		t.Fatalf("LookupFiles: %v", err)
	}
	if len(res) != 1 {
		t.Fatalf("LookupFiles returned %d results for 1 query", len(res))
	}
	return res[0]
}

func importAll(t *testing.T, s Store, source string, inds []reputation.FileIndicator) ImportStats {
	t.Helper()
	im, err := s.BeginImport(context.Background(), source)
	if err != nil {
		t.Fatalf("BeginImport: %v", err)
	}
	defer im.Rollback()
	for _, ind := range inds {
		if err := im.Add(ind); err != nil {
			t.Fatalf("Add: %v", err)
		}
	}
	st, err := im.Commit()
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return st
}

// appliedVersions returns the applied migration versions, as many times as
// goose recorded each.
func appliedVersions(t *testing.T, db *sql.DB) []int64 {
	t.Helper()
	rows, err := db.Query(`SELECT version_id FROM goose_db_version WHERE is_applied ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

func migrationVersions(t *testing.T) []int64 {
	t.Helper()
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	vs := []int64{0}
	for _, n := range names {
		v, err := strconv.ParseInt(strings.SplitN(filepath.Base(n), "_", 2)[0], 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", n, err)
		}
		vs = append(vs, v)
	}
	return vs
}

func checkSchemaOnce(t *testing.T, db *sql.DB) {
	t.Helper()
	if got, want := appliedVersions(t, db), migrationVersions(t); !reflect.DeepEqual(got, want) {
		t.Errorf("applied versions = %v, want each of %v once", got, want)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM file_indicators WHERE source = 'baseline'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	// EICAR and the empty file, by SHA-256 (see 00007_baseline_sha256.sql).
	if n != 2 {
		t.Errorf("baseline has %d indicators, want 2", n)
	}
}

func TestOpenFresh(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, DefaultFileName)
	s, err := OpenLocal(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	checkSchemaOnce(t, s.DB())
	if runtime.GOOS != "windows" {
		for p, want := range map[string]fs.FileMode{dir: 0o700, filepath.Dir(dir): 0o700, path: 0o600} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Mode().Perm(); got != want {
				t.Errorf("%s: mode %v, want %v", p, got, want)
			}
		}
	}
	for pragma, want := range map[string]string{
		"journal_mode":   "wal",
		"synchronous":    "1", // NORMAL
		"foreign_keys":   "1",
		"busy_timeout":   "10000",
		"application_id": strconv.Itoa(applicationID),
	} {
		var got string
		if err := s.DB().QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	algs, err := s.Algorithms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []checksum.Algorithm{checksum.SHA256}; !reflect.DeepEqual(algs, want) {
		t.Errorf("Algorithms() = %v, want %v", algs, want)
	}
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	feed := []reputation.FileIndicator{{Algorithm: checksum.SHA256, Digest: randomDigest(checksum.SHA256), Size: 10, Verdict: reputation.Malicious, ThreatName: "X"}}
	importAll(t, s, "feed", feed)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		s, err := OpenLocal(ctx, path)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		checkSchemaOnce(t, s.DB())
		if r := lookupOne(t, s, FileDigests{checksum.SHA256: feed[0].Digest}); r.Verdict != reputation.Malicious || r.ThreatName != "X" {
			t.Errorf("after reopen: %+v", r)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBaselineEICAR(t *testing.T) {
	s, _ := openTemp(t)
	// The baseline is keyed by SHA-256 alone, which every check computes:
	// BLAKE3 by itself does not find it.
	if r := lookupOne(t, s, FileDigests{checksum.BLAKE3: eicarBLAKE3}); r.Verdict != reputation.Unknown {
		t.Errorf("EICAR by BLAKE3 alone: %+v, want unknown", r)
	}
	for name, q := range map[string]FileDigests{
		"sha256 alone": {checksum.SHA256: eicarSHA256},
		"both":         {checksum.SHA256: eicarSHA256, checksum.BLAKE3: eicarBLAKE3},
		"with md5":     {checksum.SHA256: eicarSHA256, checksum.MD5: randomDigest(checksum.MD5)},
	} {
		t.Run(name, func(t *testing.T) {
			r := lookupOne(t, s, q)
			if r.Verdict != reputation.Malicious || r.ThreatName != "EICAR-Test-File" || r.Category != "test" ||
				!reflect.DeepEqual(r.Sources, []string{reputation.BaselineSource}) {
				t.Errorf("EICAR: %+v", r)
			}
			if r.FirstSeen.IsZero() || r.LastSeen.IsZero() {
				t.Errorf("EICAR: first/last seen not set: %+v", r)
			}
		})
	}
}

func TestUnknownFiles(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	res, err := s.LookupFiles(ctx, []FileDigests{
		{checksum.SHA256: randomDigest(checksum.SHA256), checksum.BLAKE3: randomDigest(checksum.BLAKE3)},
		{},
		nil,
		{checksum.SHA256: eicarSHA256[:31]}, // wrong length matches nothing
		{checksum.MD5: randomDigest(checksum.MD5)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !reflect.DeepEqual(r, reputation.Result{Verdict: reputation.Unknown}) {
			t.Errorf("result %d = %+v, want unknown", i, r)
		}
	}
	if len(res) != 5 {
		t.Errorf("%d results for 5 queries", len(res))
	}
	if res, err := s.LookupFiles(ctx, nil); err != nil || len(res) != 0 {
		t.Errorf("LookupFiles(nil) = %v, %v", res, err)
	}
	if _, err := s.LookupFiles(ctx, []FileDigests{{"crc32": {1, 2, 3, 4}}}); err == nil {
		t.Error("LookupFiles with an unknown algorithm: no error")
	}
}

func TestLookupManyInOrder(t *testing.T) {
	s, _ := openTemp(t)
	// More files than one statement carries, some known by SHA-256, some
	// by BLAKE3, the same digest asked for twice.
	const n = 3*lookupChunk + 17
	var feed []reputation.FileIndicator
	queries := make([]FileDigests, n)
	for i := range queries {
		q := FileDigests{checksum.SHA256: randomDigest(checksum.SHA256), checksum.BLAKE3: randomDigest(checksum.BLAKE3)}
		queries[i] = q
		switch i % 7 {
		case 0:
			feed = append(feed, reputation.FileIndicator{Algorithm: checksum.SHA256, Digest: q[checksum.SHA256], Size: -1, Verdict: reputation.Malicious, ThreatName: fmt.Sprint("T", i)})
		case 3:
			feed = append(feed, reputation.FileIndicator{Algorithm: checksum.BLAKE3, Digest: q[checksum.BLAKE3], Size: -1, Verdict: reputation.Clean, ThreatName: fmt.Sprint("T", i)})
		case 5:
			q[checksum.SHA256] = eicarSHA256
		}
	}
	importAll(t, s, "feed", feed)
	res, err := s.LookupFiles(context.Background(), queries)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != n {
		t.Fatalf("%d results for %d queries", len(res), n)
	}
	for i, r := range res {
		want := reputation.Unknown
		name := ""
		switch i % 7 {
		case 0:
			want, name = reputation.Malicious, fmt.Sprint("T", i)
		case 3:
			want, name = reputation.Clean, fmt.Sprint("T", i)
		case 5:
			want, name = reputation.Malicious, "EICAR-Test-File"
		}
		if r.Verdict != want || r.ThreatName != name {
			t.Fatalf("result %d = %+v, want %s %q", i, r, want, name)
		}
	}
}

func TestImportStats(t *testing.T) {
	s, _ := openTemp(t)
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	mk := func(i int) reputation.FileIndicator {
		return reputation.FileIndicator{
			Algorithm: checksum.SHA256, Digest: bytes.Repeat([]byte{byte(i)}, 32),
			Size: int64(100 + i), Verdict: reputation.Malicious, ThreatName: fmt.Sprint("Name", i), Category: "trojan",
		}
	}
	var feed []reputation.FileIndicator
	for i := range 8 {
		feed = append(feed, mk(i))
	}
	feed[7].FirstSeen = t0

	check := func(name string, got, want ImportStats) {
		t.Helper()
		if got != want {
			t.Errorf("%s: stats %+v, want %+v", name, got, want)
		}
	}
	check("first import", importAll(t, s, "feed", feed), ImportStats{Added: 8})
	check("same feed again", importAll(t, s, "feed", feed), ImportStats{Unchanged: 8})
	check("same feed under another source", importAll(t, s, "other", feed), ImportStats{Added: 8})

	next := append([]reputation.FileIndicator(nil), feed...)
	next[0].Verdict = reputation.Suspicious
	next[1].ThreatName = "Renamed"
	next[2].Category = "pua"
	next[3].Size = 999
	next[4].Size = -1               // not stated: keeps 104, no change
	next[5].FirstSeen = t0          // newly stated
	next[7].FirstSeen = time.Time{} // no longer stated: keeps t0, no change
	next = append(next, mk(8))
	check("changed feed", importAll(t, s, "feed", next), ImportStats{Added: 1, Updated: 5, Unchanged: 3})
	check("changed feed again", importAll(t, s, "feed", next), ImportStats{Unchanged: 9})

	// What the database holds now.
	r := lookupOne(t, s, FileDigests{checksum.SHA256: feed[4].Digest})
	if r.ThreatName != "Name4" {
		t.Errorf("%+v", r)
	}
	var size int64
	if err := s.DB().QueryRow(`SELECT size FROM file_indicators WHERE source = 'feed' AND digest = ?`, feed[4].Digest).Scan(&size); err != nil || size != 104 {
		t.Errorf("size of an indicator re-imported without size = %d, %v; want 104 kept", size, err)
	}
	if r := lookupOne(t, s, FileDigests{checksum.SHA256: feed[7].Digest}); !r.FirstSeen.Equal(t0) {
		t.Errorf("first seen not kept: %+v", r)
	}
	if r := lookupOne(t, s, FileDigests{checksum.SHA256: feed[0].Digest}); r.Verdict != reputation.Malicious || !reflect.DeepEqual(r.Sources, []string{"feed", "other"}) {
		t.Errorf("feed says suspicious, other malicious: %+v", r)
	}

	// An empty import changes nothing and deletes nothing.
	check("empty import", importAll(t, s, "feed", nil), ImportStats{})
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM file_indicators WHERE source = 'feed'`).Scan(&n); err != nil || n != 9 {
		t.Errorf("feed has %d indicators (%v), want 9", n, err)
	}

	// The imports table records every committed import.
	var imports, added, updated, unchanged int
	err := s.DB().QueryRow(`SELECT count(*), sum(added), sum(updated), sum(unchanged) FROM imports WHERE finished_at IS NOT NULL`).
		Scan(&imports, &added, &updated, &unchanged)
	if err != nil || imports != 6 || added != 17 || updated != 5 || unchanged != 20 {
		t.Errorf("imports: %d imports, %d/%d/%d (%v)", imports, added, updated, unchanged, err)
	}
}

func TestImportDuplicatesWithinOneImport(t *testing.T) {
	s, _ := openTemp(t)
	d := randomDigest(checksum.SHA256)
	first := reputation.FileIndicator{Algorithm: checksum.SHA256, Digest: d, Size: 1, Verdict: reputation.Suspicious, ThreatName: "First"}
	later := first
	later.Verdict, later.ThreatName = reputation.Malicious, "Later"

	// The duplicate in the same batch, then in a later batch.
	for _, gap := range []int{0, 2 * importBatch} {
		t.Run(fmt.Sprint("gap ", gap), func(t *testing.T) {
			feed := []reputation.FileIndicator{first}
			for range gap {
				feed = append(feed, reputation.FileIndicator{Algorithm: checksum.BLAKE3, Digest: randomDigest(checksum.BLAKE3), Size: -1, Verdict: reputation.Clean})
			}
			feed = append(feed, later, first)
			source := fmt.Sprint("dup", gap)
			if st := importAll(t, s, source, feed); st != (ImportStats{Added: 1 + gap}) {
				t.Errorf("stats %+v, want %d added", st, 1+gap)
			}
			if st := importAll(t, s, source, feed); st != (ImportStats{Unchanged: 1 + gap}) {
				t.Errorf("again: stats %+v, want %d unchanged", st, 1+gap)
			}
		})
	}
	if r := lookupOne(t, s, FileDigests{checksum.SHA256: d}); r.Verdict != reputation.Suspicious || r.ThreatName != "First" {
		t.Errorf("the first statement of a key should count: %+v", r)
	}
}

func TestImportLarge(t *testing.T) {
	s, _ := openTemp(t)
	n := 20_000
	if testing.Short() {
		n = 2_000
	}
	algs := []checksum.Algorithm{checksum.SHA256, checksum.MD5, checksum.SHA1}
	feed := make([]reputation.FileIndicator, n)
	for i := range feed {
		a := algs[i%len(algs)]
		feed[i] = reputation.FileIndicator{Algorithm: a, Digest: randomDigest(a), Size: int64(i), Verdict: reputation.Malicious, ThreatName: fmt.Sprint("N", i)}
	}
	if st := importAll(t, s, "big", feed); st != (ImportStats{Added: n}) {
		t.Errorf("stats %+v", st)
	}
	feed[n/2].ThreatName = "changed"
	if st := importAll(t, s, "big", feed); st != (ImportStats{Updated: 1, Unchanged: n - 1}) {
		t.Errorf("re-import stats %+v", st)
	}
	qs := make([]FileDigests, n)
	for i, ind := range feed {
		qs[i] = FileDigests{ind.Algorithm: ind.Digest}
	}
	res, err := s.LookupFiles(context.Background(), qs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.ThreatName != feed[i].ThreatName || r.Verdict != reputation.Malicious {
			t.Fatalf("result %d = %+v, want %s", i, r, feed[i].ThreatName)
		}
	}
	algsGot, err := s.Algorithms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The feed's three algorithms; no indicator is keyed by BLAKE3.
	if want := []checksum.Algorithm{checksum.SHA256, checksum.SHA1, checksum.MD5}; !reflect.DeepEqual(algsGot, want) {
		t.Errorf("Algorithms() = %v, want %v", algsGot, want)
	}
}

func TestImportInvisibleBeforeCommit(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	var feed []reputation.FileIndicator
	for range importBatch + 10 { // some of it already written to the transaction
		feed = append(feed, reputation.FileIndicator{Algorithm: checksum.SHA256, Digest: randomDigest(checksum.SHA256), Size: -1, Verdict: reputation.Malicious})
	}
	q := []FileDigests{{checksum.SHA256: feed[0].Digest}, {checksum.SHA256: feed[len(feed)-1].Digest}}

	visible := func() []reputation.Verdict {
		t.Helper()
		res, err := s.LookupFiles(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return []reputation.Verdict{res[0].Verdict, res[1].Verdict}
	}
	none := []reputation.Verdict{reputation.Unknown, reputation.Unknown}
	all := []reputation.Verdict{reputation.Malicious, reputation.Malicious}

	// Rolled back: never visible.
	im, err := s.BeginImport(ctx, "feed")
	if err != nil {
		t.Fatal(err)
	}
	for _, ind := range feed {
		if err := im.Add(ind); err != nil {
			t.Fatal(err)
		}
	}
	if got := visible(); !reflect.DeepEqual(got, none) {
		t.Errorf("before rollback: %v", got)
	}
	if err := im.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := visible(); !reflect.DeepEqual(got, none) {
		t.Errorf("after rollback: %v", got)
	}
	if err := im.Add(feed[0]); err == nil {
		t.Error("Add after Rollback: no error")
	}

	// Committed: visible after Commit only.
	im, err = s.BeginImport(ctx, "feed")
	if err != nil {
		t.Fatal(err)
	}
	for _, ind := range feed {
		if err := im.Add(ind); err != nil {
			t.Fatal(err)
		}
	}
	if got := visible(); !reflect.DeepEqual(got, none) {
		t.Errorf("before commit: %v", got)
	}
	st, err := im.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != len(feed) {
		t.Errorf("stats %+v", st)
	}
	if got := visible(); !reflect.DeepEqual(got, all) {
		t.Errorf("after commit: %v", got)
	}
	if err := im.Rollback(); err != nil {
		t.Errorf("Rollback after Commit: %v", err)
	}
	if _, err := im.Commit(); err == nil {
		t.Error("second Commit: no error")
	}
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM imports`).Scan(&n); err != nil || n != 1 {
		t.Errorf("imports has %d rows (%v), want only the committed one", n, err)
	}
}

func TestImportContextCanceled(t *testing.T) {
	s, _ := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	im, err := s.BeginImport(ctx, "feed")
	if err != nil {
		t.Fatal(err)
	}
	d := randomDigest(checksum.SHA256)
	if err := im.Add(reputation.FileIndicator{Algorithm: checksum.SHA256, Digest: d, Size: -1, Verdict: reputation.Malicious}); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := im.Commit(); err == nil {
		t.Error("Commit after the context ended: no error")
	}
	if err := im.Rollback(); err != nil {
		t.Errorf("Rollback: %v", err)
	}
	if r := lookupOne(t, s, FileDigests{checksum.SHA256: d}); r.Verdict != reputation.Unknown {
		t.Errorf("canceled import visible: %+v", r)
	}
	// The database is not left locked.
	importAll(t, s, "feed", nil)
}

func TestImportWaitsForAnotherImport(t *testing.T) {
	s, path := openTemp(t)
	other, err := OpenLocal(context.Background(), path) // another handle, as another process would have
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	first, err := s.BeginImport(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	d := randomDigest(checksum.SHA256)
	first.Add(reputation.FileIndicator{Algorithm: checksum.SHA256, Digest: d, Size: -1, Verdict: reputation.Suspicious})

	done := make(chan error, 1)
	go func() {
		im, err := other.BeginImport(ctx, "b")
		if err != nil {
			done <- err
			return
		}
		im.Add(reputation.FileIndicator{Algorithm: checksum.SHA256, Digest: d, Size: -1, Verdict: reputation.Malicious})
		_, err = im.Commit()
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := first.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("second import: %v", err)
	}
	if r := lookupOne(t, s, FileDigests{checksum.SHA256: d}); r.Verdict != reputation.Malicious || !reflect.DeepEqual(r.Sources, []string{"a", "b"}) {
		t.Errorf("%+v", r)
	}
}

func TestImportRejects(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	for _, src := range []string{"", reputation.OverrideSource, reputation.BaselineSource, "has space", "ctl\x01", strings.Repeat("x", 65)} {
		if im, err := s.BeginImport(ctx, src); err == nil {
			im.Rollback()
			t.Errorf("BeginImport(%q): no error", src)
		}
	}
	im, err := s.BeginImport(ctx, "feed")
	if err != nil {
		t.Fatal(err)
	}
	defer im.Rollback()
	good := reputation.FileIndicator{Algorithm: checksum.SHA256, Digest: randomDigest(checksum.SHA256), Size: -1, Verdict: reputation.Malicious}
	for name, ind := range map[string]reputation.FileIndicator{
		"unknown algorithm": {Algorithm: "crc32", Digest: []byte{1, 2, 3, 4}, Verdict: reputation.Malicious},
		"short digest":      {Algorithm: checksum.SHA256, Digest: make([]byte, 20), Verdict: reputation.Malicious},
		"empty verdict":     {Algorithm: checksum.MD5, Digest: make([]byte, 16)},
		"bad verdict":       {Algorithm: checksum.MD5, Digest: make([]byte, 16), Verdict: "evil"},
	} {
		if err := im.Add(ind); err == nil {
			t.Errorf("Add(%s): no error", name)
		}
	}
	// A rejected indicator does not end the import.
	if err := im.Add(good); err != nil {
		t.Fatal(err)
	}
	if st, err := im.Commit(); err != nil || st != (ImportStats{Added: 1}) {
		t.Errorf("Commit = %+v, %v", st, err)
	}
}

func TestOverridePrecedence(t *testing.T) {
	s, _ := openServerTemp(t)
	ctx := context.Background()
	d := randomDigest(checksum.SHA256)
	importAll(t, s, "malwarebazaar", []reputation.FileIndicator{{Algorithm: checksum.SHA256, Digest: d, Size: 5, Verdict: reputation.Malicious, ThreatName: "FP", Category: "trojan"}})
	importAll(t, s, "nsrl", []reputation.FileIndicator{{Algorithm: checksum.SHA256, Digest: d, Size: 5, Verdict: reputation.Clean}})
	q := FileDigests{checksum.SHA256: d, checksum.BLAKE3: randomDigest(checksum.BLAKE3)}

	if r := lookupOne(t, s, q); r.Verdict != reputation.Malicious || r.ThreatName != "FP" || !reflect.DeepEqual(r.Sources, []string{"malwarebazaar", "nsrl"}) {
		t.Errorf("feeds only: %+v", r)
	}
	// The override is keyed by another algorithm of the same file.
	if err := s.SetOverride(ctx, reputation.FileIndicator{Algorithm: checksum.BLAKE3, Digest: q[checksum.BLAKE3], Size: 5, Verdict: reputation.Clean}); err != nil {
		t.Fatal(err)
	}
	if r := lookupOne(t, s, q); r.Verdict != reputation.Clean || r.ThreatName != "" || r.Category != "" ||
		!reflect.DeepEqual(r.Sources, []string{"malwarebazaar", "nsrl", reputation.OverrideSource}) {
		t.Errorf("with override: %+v", r)
	}
	// Replacing the override.
	if err := s.SetOverride(ctx, reputation.FileIndicator{Algorithm: checksum.BLAKE3, Digest: q[checksum.BLAKE3], Size: -1, Verdict: reputation.Suspicious, ThreatName: "Policy"}); err != nil {
		t.Fatal(err)
	}
	if r := lookupOne(t, s, q); r.Verdict != reputation.Suspicious || r.ThreatName != "Policy" {
		t.Errorf("replaced override: %+v", r)
	}
	if err := s.UnsetOverride(ctx, checksum.BLAKE3, q[checksum.BLAKE3]); err != nil {
		t.Fatal(err)
	}
	if r := lookupOne(t, s, q); r.Verdict != reputation.Malicious {
		t.Errorf("override removed: %+v", r)
	}
	if err := s.UnsetOverride(ctx, checksum.BLAKE3, q[checksum.BLAKE3]); !errors.Is(err, ErrNotFound) {
		t.Errorf("UnsetOverride without override: %v, want ErrNotFound", err)
	}

	// The baseline can be overridden too.
	if err := s.SetOverride(ctx, reputation.FileIndicator{Algorithm: checksum.SHA256, Digest: eicarSHA256, Size: 68, Verdict: reputation.Clean}); err != nil {
		t.Fatal(err)
	}
	if r := lookupOne(t, s, FileDigests{checksum.BLAKE3: eicarBLAKE3, checksum.SHA256: eicarSHA256}); r.Verdict != reputation.Clean {
		t.Errorf("EICAR overridden: %+v", r)
	}
	if err := s.SetOverride(ctx, reputation.FileIndicator{Algorithm: checksum.SHA256, Digest: d[:4], Verdict: reputation.Clean}); err == nil {
		t.Error("SetOverride with a short digest: no error")
	}
}

func TestLookupByAlgorithmTheQueryLacks(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	md5 := randomDigest(checksum.MD5)
	importAll(t, s, "clamav", []reputation.FileIndicator{{Algorithm: checksum.MD5, Digest: md5, Size: 42, Verdict: reputation.Malicious, ThreatName: "Win.Trojan.X"}})

	algs, err := s.Algorithms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []checksum.Algorithm{checksum.SHA256, checksum.MD5}; !reflect.DeepEqual(algs, want) {
		t.Errorf("Algorithms() = %v, want %v", algs, want)
	}
	// A query without MD5 cannot find an indicator keyed by MD5 alone.
	if r := lookupOne(t, s, FileDigests{checksum.SHA256: randomDigest(checksum.SHA256), checksum.BLAKE3: randomDigest(checksum.BLAKE3)}); r.Verdict != reputation.Unknown {
		t.Errorf("without md5: %+v", r)
	}
	if r := lookupOne(t, s, FileDigests{checksum.SHA256: randomDigest(checksum.SHA256), checksum.MD5: md5}); r.Verdict != reputation.Malicious || r.ThreatName != "Win.Trojan.X" {
		t.Errorf("with md5: %+v", r)
	}
	// EICAR is keyed by BLAKE3 and SHA-256 only.
	if r := lookupOne(t, s, FileDigests{checksum.MD5: randomDigest(checksum.MD5), checksum.SHA1: randomDigest(checksum.SHA1)}); r.Verdict != reputation.Unknown {
		t.Errorf("md5+sha1 only: %+v", r)
	}
}

func TestSeenTimes(t *testing.T) {
	s, _ := openTemp(t)
	t1 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	t2 := t1.Add(48 * time.Hour)
	declared := time.Date(2019, 7, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return t1 }

	a := reputation.FileIndicator{Algorithm: checksum.SHA256, Digest: randomDigest(checksum.SHA256), Size: -1, Verdict: reputation.Malicious, FirstSeen: declared}
	b := reputation.FileIndicator{Algorithm: checksum.SHA256, Digest: randomDigest(checksum.SHA256), Size: -1, Verdict: reputation.Malicious}
	importAll(t, s, "feed", []reputation.FileIndicator{a, b})
	s.now = func() time.Time { return t2 }
	importAll(t, s, "feed", []reputation.FileIndicator{a, b})

	if r := lookupOne(t, s, FileDigests{checksum.SHA256: a.Digest}); !r.FirstSeen.Equal(declared) || !r.LastSeen.Equal(t2) {
		t.Errorf("declared first seen: %+v", r)
	}
	// Not declared by the source: first recorded by this database.
	if r := lookupOne(t, s, FileDigests{checksum.SHA256: b.Digest}); !r.FirstSeen.Equal(t1) || !r.LastSeen.Equal(t2) {
		t.Errorf("undeclared first seen: %+v", r)
	}
}

func TestConcurrentOpenGoroutines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x", DefaultFileName)
	const n = 16
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make(chan error, n)
	)
	for range n {
		wg.Go(func() {
			<-start
			s, err := OpenLocal(context.Background(), path) // its own *sql.DB
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			res, err := s.LookupFiles(context.Background(), []FileDigests{{checksum.SHA256: eicarSHA256}})
			if err != nil {
				errs <- err
				return
			}
			if res[0].Verdict != reputation.Malicious {
				errs <- fmt.Errorf("EICAR: %+v", res[0])
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s, err := OpenLocal(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkSchemaOnce(t, s.DB())
}

func TestConcurrentOpenProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := filepath.Join(t.TempDir(), "y", DefaultFileName)
	const n = 8
	at := time.Now().Add(time.Second).UnixNano() // all start at the same moment
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperPathEnv+"="+path, helperStartEnv+"="+strconv.FormatInt(at, 10))
		outs[i] = new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i])
		}
	}
	s, err := OpenLocal(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkSchemaOnce(t, s.DB())
}

func TestOpenNotADatabase(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "text.db")
	content := []byte(strings.Repeat("this is not a database\n", 400))
	if err := os.WriteFile(text, content, 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	junk := make([]byte, 8192)
	rand.Read(junk)
	if err := os.WriteFile(garbage, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	// A SQLite file of another application.
	foreign := filepath.Join(dir, "foreign.db")
	db, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE contacts (name TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	foreignContent, err := os.ReadFile(foreign)
	if err != nil {
		t.Fatal(err)
	}

	for path, want := range map[string][]byte{text: content, garbage: junk, foreign: foreignContent} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			s, err := OpenLocal(context.Background(), path)
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrNotReputationDB) {
				t.Errorf("error %q does not wrap ErrNotReputationDB", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			t.Log(err)
			if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
				t.Error("the file was modified")
			}
		})
	}
	// A directory where the file should be.
	if s, err := OpenLocal(context.Background(), dir); err == nil {
		s.Close()
		t.Error("a directory: no error")
	} else {
		t.Log(err)
	}
}

func TestOpenReadOnlyDirectory(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX permissions")
	}
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })

	for _, path := range []string{
		filepath.Join(dir, DefaultFileName),
		filepath.Join(dir, "sub", DefaultFileName),
	} {
		s, err := OpenLocal(context.Background(), path)
		if err == nil {
			s.Close()
			t.Fatalf("%s: no error", path)
		}
		if !errors.Is(err, fs.ErrPermission) {
			t.Errorf("%s: %v, want a permission error", path, err)
		}
		t.Log(err)
	}

	// The file exists and is writable, but its directory is not: SQLite
	// cannot create the -wal and -shm files.
	dir2 := filepath.Join(t.TempDir(), "ro2")
	s, err := OpenLocal(context.Background(), filepath.Join(dir2, DefaultFileName))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(filepath.Join(dir2, DefaultFileName+suffix))
	}
	if err := os.Chmod(dir2, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir2, 0o700) })
	if s, err := OpenLocal(context.Background(), filepath.Join(dir2, DefaultFileName)); err == nil {
		s.Close()
		t.Error("read-only directory of an existing database: no error")
	} else {
		t.Log(err)
	}
}

func TestOpenParentIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := OpenLocal(context.Background(), filepath.Join(file, DefaultFileName))
	if err == nil {
		s.Close()
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), "create directory") {
		t.Errorf("error %q does not say what failed", err)
	}
	t.Log(err)
}

func TestOpenPathWithURIMetacharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b?c#d%20é&_pragma=x")
	path := filepath.Join(dir, DefaultFileName)
	s, err := OpenLocal(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at its path: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), DefaultFileName) {
			t.Errorf("unexpected file %q", e.Name())
		}
	}
	if r := lookupOne(t, s, FileDigests{checksum.SHA256: eicarSHA256}); r.Verdict != reputation.Malicious {
		t.Errorf("%+v", r)
	}
}

func TestMigrationsRunInTransactions(t *testing.T) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	for _, n := range names {
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		// The exactly-once guarantee of concurrent opens rests on this.
		if bytes.Contains(bytes.ToUpper(b), []byte("NO TRANSACTION")) {
			t.Errorf("%s runs outside a transaction", n)
		}
	}
}

func TestMigrationsDownAndUp(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	importAll(t, s, "feed", []reputation.FileIndicator{{Algorithm: checksum.SHA256, Digest: randomDigest(checksum.SHA256), Size: -1, Verdict: reputation.Clean}})
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.DB(), fsys, goose.WithDisableGlobalRegistry(true), goose.WithLogger(goose.NopLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("down: %v", err)
	}
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM sqlite_master WHERE name IN ('file_indicators', 'imports', 'goose_db_version_once')`).Scan(&n); err != nil || n != 0 {
		t.Errorf("after down: %d objects left (%v)", n, err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	checkSchemaOnce(t, s.DB())
}
