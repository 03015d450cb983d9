package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/seal"
)

var testKEK = seal.Key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}

// Participant codes of three installations.
const (
	partA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	partB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	partC = "cccccccccccccccccccccccccccccccc"
)

// sender makes each test participant the one installation of a license
// of its own, so that seats never cap what a test counts.
func sender(participant string) Sender {
	var lic int64 = 1
	if participant != "" {
		lic = int64(participant[0])
	}
	return Sender{License: lic, Seats: 1, Participant: participant}
}

// openSealed opens a fresh database and gives it testKEK.
func openSealed(t testing.TB) *Server {
	t.Helper()
	s, _ := openServerTemp(t)
	if err := s.UnlockSubmissions(context.Background(), testKEK); err != nil {
		t.Fatal(err)
	}
	return s
}

func digest32(n int) [32]byte { return sha256.Sum256([]byte(fmt.Sprint("file ", n))) }

func digestOf(n int) []byte { d := digest32(n); return d[:] }

// fileSub is a file record of the file numbered n, as the client sends it.
func fileSub(id string, n int) Submission {
	d := digest32(n)
	body := fmt.Sprintf(`{"digests":{"blake3":"%064x","sha256":"%x"},"size":%d,"verdict":"unknown","hash_ms":%g}`, n, d, n*1000, float64(n)/10)
	return Submission{
		Record: api.Record{ID: id, Kind: "file", CreatedAt: time.Unix(1_780_000_000, 0).UTC(), Body: json.RawMessage(body)},
		File:   &FileFacts{SHA256: d, Size: int64(n * 1000), HashMS: float64(n) / 10},
	}
}

func urlSub(id, u string) Submission {
	_, hostPath, _ := strings.Cut(u, "://")
	return Submission{
		Record: api.Record{ID: id, Kind: "url", CreatedAt: time.Unix(1_780_000_000, 0).UTC(),
			Body: json.RawMessage(fmt.Sprintf(`{"url":%q,"verdict":"unknown","check_ms":1.5}`, u))},
		URL: &URLFacts{Key: sha256.Sum256([]byte(hostPath)), CheckMS: 1.5},
	}
}

func systemSub(id, osVersion string) Submission {
	f := SystemFacts{OS: "linux", OSVersion: osVersion, Arch: "amd64", CPUs: 12, MemoryGiB: 31, KSNVersion: "v0.4.0"}
	b, _ := json.Marshal(map[string]any{"os": f.OS, "os_version": f.OSVersion, "arch": f.Arch, "cpus": f.CPUs, "memory_gib": f.MemoryGiB, "ksn_version": f.KSNVersion})
	return Submission{
		Record: api.Record{ID: id, Kind: "system", CreatedAt: time.Unix(1_780_000_000, 0).UTC(), Body: b},
		System: &f,
	}
}

func recID(n int) string { return fmt.Sprintf("%032x", n) }

func countRows(t *testing.T, s *Server, table string) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func store(t *testing.T, s *Server, participant string, at time.Time, subs ...Submission) {
	t.Helper()
	acc, dup, err := s.StoreSubmissions(context.Background(), sender(participant), subs, at)
	if err != nil || acc+dup != len(subs) {
		t.Fatalf("StoreSubmissions: %d accepted, %d duplicates, %v", acc, dup, err)
	}
}

// aggregateTables are every table the aggregates live in.
var aggregateTables = []string{"object_stats", "daily_counts", "scan_time_classes", "scan_time_buckets", "system_counts"}

// snapshotAggregates dumps every row of every aggregate table, in key
// order, and the Aggregates value, as bytes to compare.
func snapshotAggregates(t *testing.T, s *Server) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, table := range aggregateTables {
		rows, err := s.DB().Query(`SELECT * FROM ` + table + ` ORDER BY 1, 2`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		fmt.Fprintf(&out, "%s %v\n", table, cols)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&out, "%#v\n", vals)
		}
		rows.Close()
	}
	agg, err := s.Aggregates(context.Background(), AggregateOptions{Top: 100})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(agg)
	out.Write(b)
	return out.Bytes()
}

func readAll(t *testing.T, s *Server) map[string][]api.Record {
	t.Helper()
	got := map[string][]api.Record{}
	err := s.ReadSubmissions(context.Background(), func(h string, rec api.Record) error {
		got[h] = append(got[h], rec)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadSubmissions: %v", err)
	}
	return got
}

// TestPurgeTwoHalfYears: records of two half-years, received on an
// injected clock. The first half-year's purge waits for the grace period,
// then destroys its key and rows (and the key's bytes are nowhere in the
// files any more); the second half-year's records still open, and every
// aggregate is exactly what it was.
func TestPurgeTwoHalfYears(t *testing.T) {
	ctx := context.Background()
	s, path := openServerTemp(t)
	if err := s.UnlockSubmissions(ctx, testKEK); err != nil {
		t.Fatal(err)
	}
	may := time.Date(2026, 5, 10, 9, 0, 0, 0, time.UTC)
	jun := time.Date(2026, 6, 30, 23, 59, 0, 0, time.UTC)
	aug := time.Date(2026, 8, 10, 9, 0, 0, 0, time.UTC)

	store(t, s, partA, may, fileSub(recID(1), 1), fileSub(recID(2), 2), systemSub(recID(3), "6.8.0-45-generic"))
	store(t, s, partB, jun, fileSub(recID(4), 1), urlSub(recID(5), "https://example.com/a/"))
	store(t, s, partA, aug, fileSub(recID(6), 1), fileSub(recID(7), 3), urlSub(recID(8), "https://example.com/a/"))

	if got := readAll(t, s); len(got["2026H1"]) != 5 || len(got["2026H2"]) != 3 {
		t.Fatalf("before the purge: %d records of 2026H1, %d of 2026H2", len(got["2026H1"]), len(got["2026H2"]))
	}
	keys := seal.KeyDir{Path: path + ".keys"} // the directory a database given none uses
	wrappedH1, err := keys.Load("2026H1")
	if err != nil {
		t.Fatal(err)
	}
	before := snapshotAggregates(t, s)

	// File 1: two participants in H1, one (again A) in H2.
	st, err := s.ObjectStats(ctx, ObjectFile, [][]byte{digestOf(1)})
	if err != nil {
		t.Fatal(err)
	}
	if f := st[string(digestOf(1))]; f.Participants != 3 || f.Reports != 3 ||
		!f.FirstSeen.Equal(time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)) || !f.LastSeen.Equal(time.Date(2026, 8, 10, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("file 1 stats %+v", f)
	}

	// Within the grace period nothing goes.
	res, err := s.Purge(ctx, PurgeOptions{Now: time.Date(2026, 7, 7, 23, 0, 0, 0, time.UTC), Grace: 7 * 24 * time.Hour})
	if err != nil || len(res.Purged) != 0 {
		t.Fatalf("purge within the grace: %+v, %v", res, err)
	}
	res, err = s.Purge(ctx, PurgeOptions{Now: time.Date(2026, 7, 8, 0, 0, 0, 0, time.UTC), Grace: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Purged) != 1 || res.Purged[0].HalfYear != "2026H1" || res.Purged[0].Records != 5 || res.Purged[0].ParticipantRows != 4 || !res.Checkpointed {
		t.Fatalf("purge = %+v", res)
	}

	// Key gone, rows gone; nothing left to open of 2026H1.
	if _, err := keys.Load("2026H1"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the key file of 2026H1 after the purge: %v", err)
	}
	var n int
	if err := s.DB().QueryRow(`SELECT (SELECT count(*) FROM submission_keys WHERE half_year = '2026H1')
		+ (SELECT count(*) FROM sealed_submissions WHERE half_year = '2026H1')
		+ (SELECT count(*) FROM submission_participants WHERE half_year = '2026H1')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows of 2026H1 left (%v)", n, err)
	}
	got := readAll(t, s)
	if len(got["2026H1"]) != 0 || len(got["2026H2"]) != 3 {
		t.Fatalf("after the purge: %d records of 2026H1, %d of 2026H2", len(got["2026H1"]), len(got["2026H2"]))
	}
	for _, r := range got["2026H2"] {
		if r.ID != recID(6) && r.ID != recID(7) && r.ID != recID(8) || !json.Valid(r.Body) {
			t.Errorf("2026H2 record %+v", r)
		}
	}
	if !bytes.Equal(snapshotAggregates(t, s), before) {
		t.Errorf("the purge changed the aggregates:\nbefore %s\nafter  %s", before, snapshotAggregates(t, s))
	}
	// The destroyed key was never in the database's files, nor is it in
	// its directory any more.
	for _, f := range []string{path, path + "-wal", keys.Path + "/2026H1.key"} {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if bytes.Contains(b, wrappedH1[seal.NonceSize:]) {
			t.Errorf("%s still holds the destroyed key's bytes", filepath.Base(f))
		}
	}
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() != 0 {
		t.Errorf("WAL holds %d bytes after the purge's checkpoint", st.Size())
	}

	// The purge is recorded, and running it again changes nothing.
	stats, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Submissions != 3 {
		t.Errorf("Stats.Submissions = %d, want 3", stats.Submissions)
	}
	if res, err := s.Purge(ctx, PurgeOptions{Now: time.Date(2026, 8, 11, 0, 0, 0, 0, time.UTC), Grace: 7 * 24 * time.Hour}); err != nil || len(res.Purged) != 0 {
		t.Errorf("second purge %+v, %v", res, err)
	}
	var purged int64
	if err := s.DB().QueryRow(`SELECT records FROM purged_half_years WHERE half_year = '2026H1'`).Scan(&purged); err != nil || purged != 5 {
		t.Errorf("purged_half_years: %d, %v", purged, err)
	}
	// A record "received" in a purged half-year (a clock gone back) is
	// refused rather than sealed under a new key.
	if _, _, err := s.StoreSubmissions(ctx, sender(partC), []Submission{fileSub(recID(9), 9)}, jun); !errors.Is(err, ErrPurged) {
		t.Errorf("store into a purged half-year: %v, want ErrPurged", err)
	}

	// A new process (a restarted server) with the same KEK reads 2026H2.
	s2, err := OpenServer(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.UnlockSubmissions(ctx, testKEK); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s2); len(got["2026H2"]) != 3 || len(got) != 1 {
		t.Errorf("reopened: %v", got)
	}
}

// TestParticipantsPerHalfYear: a participant reporting an object again in
// one half-year is counted once; in the next half-year, again.
func TestParticipantsPerHalfYear(t *testing.T) {
	ctx := context.Background()
	s := openSealed(t)
	h1 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	h2 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	store(t, s, partA, h1, fileSub(recID(1), 7), fileSub(recID(2), 7)) // twice in one batch
	store(t, s, partA, h1.Add(time.Hour), fileSub(recID(3), 7))        // and in another
	store(t, s, partB, h1, fileSub(recID(4), 7))
	st, _ := s.ObjectStats(ctx, ObjectFile, [][]byte{digestOf(7)})
	if f := st[string(digestOf(7))]; f.Participants != 2 || f.Reports != 4 {
		t.Errorf("in one half-year: %+v, want 2 participants, 4 reports", f)
	}
	store(t, s, partA, h2, fileSub(recID(5), 7))
	st, _ = s.ObjectStats(ctx, ObjectFile, [][]byte{digestOf(7)})
	if f := st[string(digestOf(7))]; f.Participants != 3 {
		t.Errorf("after the next half-year: %+v, want 3 participants", f)
	}
	// The participant codes themselves are nowhere.
	for _, table := range append([]string{"submission_participants", "sealed_submissions", "submission_keys"}, aggregateTables...) {
		n := 0
		rows, err := s.DB().Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			row := fmt.Sprintf("%s %x", vals, vals)
			if strings.Contains(row, partA) || strings.Contains(row, strings.Repeat("\xaa", 16)) {
				n++
			}
		}
		rows.Close()
		if n > 0 {
			t.Errorf("%s: %d rows hold participant A's code", table, n)
		}
	}
}

// TestSealedAtRest opens the database file and its WAL as raw bytes, after
// records were stored and again after a checkpoint, and finds no host,
// path or system field of a record in clear: only digests, hashes and
// aggregate classes.
func TestSealedAtRest(t *testing.T) {
	ctx := context.Background()
	s, path := openServerTemp(t)
	if err := s.UnlockSubmissions(ctx, testKEK); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	var subs []Submission
	for i := range 50 {
		subs = append(subs, urlSub(recID(i), fmt.Sprintf("https://secret-host.example/unique-path-segment-qx/%d.html", i)))
	}
	subs = append(subs, systemSub(recID(100), "6.1.77-ksnuniquebuild42"))
	store(t, s, partA, at, subs...)

	secrets := []string{"secret-host", "unique-path-segment-qx", "ksnuniquebuild42", "6.1.77", `"os_version"`, `"url"`, "check_ms", "memory_gib"}
	scan := func(when string) {
		t.Helper()
		total := 0
		for _, f := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(f)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			total += len(b)
			for _, sec := range secrets {
				if bytes.Contains(b, []byte(sec)) {
					t.Errorf("%s: %s holds %q in clear", when, filepath.Base(f), sec)
				}
			}
		}
		if total == 0 {
			t.Fatalf("%s: read nothing", when)
		}
	}
	wal, err := os.Stat(path + "-wal")
	if err != nil || wal.Size() == 0 {
		t.Fatalf("no WAL to look into (%v)", err)
	}
	scan("before the checkpoint")
	if _, err := s.DB().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	scan("after the checkpoint")

	// The aggregates are there, in their classes (so the scan did read the
	// data): the OS version cut to "6.1", the memory and CPU classes.
	agg, err := s.Aggregates(ctx, AggregateOptions{Top: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := SystemCount{OS: "linux", Arch: "amd64", OSVersion: "6.1", KSNVersion: "v0.4.0", CPUs: "9-16", Memory: "17-32", Records: 1}
	if len(agg.Systems) != 1 || agg.Systems[0] != want {
		t.Errorf("systems %+v, want %+v", agg.Systems, want)
	}
	if agg.Objects["url"] != 50 || agg.Kinds["url"] != 50 {
		t.Errorf("url aggregates %+v", agg)
	}
}

func mustID(s string) []byte {
	b, err := ParseRecordID(s)
	if err != nil {
		panic(err)
	}
	return b
}
