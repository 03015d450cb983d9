// Package storetest is the conformance suite of the server database: one
// set of tests that every implementation of store.ServerDatabase (SQLite's
// *store.Server, PostgreSQL's *store.PostgresServer) must pass, so that a
// server behaves the same on either. Run calls it with a constructor;
// PostgresDSN gives a test its own PostgreSQL schema.
//
// It is imported by tests only.
package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/seal"
	"github.com/ksnproject/ksn/pkg/store"
)

// Backend is one implementation of the server database under test.
type Backend struct {
	// Open opens a fresh, empty database for one test; the test's cleanup
	// closes and removes it. The suite gives it a key directory of its
	// own (UseDataKeys) before a test runs.
	Open func(t *testing.T) store.ServerDatabase
	// Reopen opens the database db again, as another replica or a
	// restarted server would (without a key directory yet); the test's
	// cleanup closes it.
	Reopen func(t *testing.T, db store.ServerDatabase) store.ServerDatabase
	// Exec runs SQL that no method does on db (planting what an earlier
	// version left, damaging a row), with ? placeholders; Count runs a
	// query of one integer.
	Exec  func(t *testing.T, db store.ServerDatabase, query string, args ...any)
	Count func(t *testing.T, db store.ServerDatabase, query string, args ...any) int
	// HoldSnapshot opens a reader of db in a snapshot taken now, which
	// stays open until release is called: what a purge must wait for
	// before what it destroyed is gone from the files.
	HoldSnapshot func(t *testing.T, db store.ServerDatabase) (release func())
}

// env is what a test of the suite works on.
type env struct {
	b    Backend
	db   store.ServerDatabase
	keys seal.KeyDir // db's data keys
}

// Run runs the whole suite against b, each subtest on a fresh database.
func Run(t *testing.T, b Backend) {
	plain := func(fn func(*testing.T, store.ServerDatabase)) func(*testing.T, *env) {
		return func(t *testing.T, e *env) { fn(t, e.db) }
	}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"LookupBaseline", plain(testLookupBaseline)},
		{"LookupImported", plain(testLookupImported)},
		{"LookupLargeBatch", plain(testLookupLargeBatch)},
		{"ImportCounts", plain(testImportCounts)},
		{"ImportRollback", plain(testImportRollback)},
		{"URLs", plain(testURLs)},
		{"Licenses", plain(testLicenses)},
		{"LicenseSeats", plain(testLicenseSeats)},
		{"Overrides", plain(testOverrides)},
		{"URLOverrides", plain(testURLOverrides)},
		{"Restriction", plain(testRestriction)},
		{"Statement", plain(testStatement)},
		{"Keys", plain(testKeys)},
		{"DatabaseID", testDatabaseID},
		{"DataKeysOutside", testDataKeysOutside},
		{"DataKeysMovedOut", testDataKeysMovedOut},
		{"Submissions", plain(testSubmissions)},
		{"BoundedFacts", testBoundedFacts},
		{"IDReused", testIDReused},
		{"ConcurrentIDReuse", plain(testConcurrentIDReuse)},
		{"ConcurrentDuplicates", plain(testConcurrentDuplicates)},
		{"Aggregates", plain(testAggregates)},
		{"Prevalence", plain(testPrevalence)},
		{"SeatsCapPrevalence", plain(testSeatsCapPrevalence)},
		{"ConcurrentSeats", plain(testConcurrentSeats)},
		{"Purge", testPurge},
		{"PurgeRareObjects", testPurgeRareObjects},
		{"SpamAggregates", plain(testSpamAggregates)},
		{"SpamBadFacts", plain(testSpamBadFacts)},
		{"SpamPurge", testSpamPurge},
		{"URLPrevalence", plain(testURLPrevalence)},
		{"PurgeBesideReader", testPurgeBesideReader},
		{"ConcurrentPurge", plain(testConcurrentPurge)},
		{"Stats", plain(testStats)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{b: b, db: b.Open(t), keys: seal.KeyDir{Path: filepath.Join(t.TempDir(), "keys")}}
			if _, err := e.db.UseDataKeys(ctx, e.keys); err != nil {
				t.Fatal(err)
			}
			tc.fn(t, e)
		})
	}
}

var ctx = context.Background()

// EICAR's SHA-256, which every fresh database knows (the baseline).
const eicarSHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"

func digest(alg checksum.Algorithm, seed string) []byte {
	sum := sha256.Sum256([]byte(string(alg) + ":" + seed))
	b := make([]byte, alg.Size())
	for i := range b {
		b[i] = sum[i%len(sum)] ^ byte(i/len(sum))
	}
	return b
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	var b []byte
	if _, err := fmt.Sscanf(s, "%x", &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// importFiles imports indicators from source and returns the import's
// counts.
func importFiles(t *testing.T, db store.ServerDatabase, source string, inds ...reputation.FileIndicator) store.ImportStats {
	t.Helper()
	im, err := db.BeginImport(ctx, source)
	if err != nil {
		t.Fatal(err)
	}
	for _, ind := range inds {
		if err := im.Add(ind); err != nil {
			im.Rollback()
			t.Fatal(err)
		}
	}
	st, err := im.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func indicator(alg checksum.Algorithm, seed string, v reputation.Verdict) reputation.FileIndicator {
	return reputation.FileIndicator{Algorithm: alg, Digest: digest(alg, seed), Size: 100, Verdict: v, ThreatName: "T-" + seed, Category: "c"}
}

// kek is a fixed key-encryption key; otherKEK another one.
var kek, otherKEK = seal.Derive(seal.Key{1}, "storetest-kek"), seal.Derive(seal.Key{2}, "storetest-kek")

// participant returns the sender of participant n: a participant code
// under a license of its own (of one seat).
func participant(n int) store.Sender {
	return store.Sender{License: int64(n + 1), Seats: 1, Participant: fmt.Sprintf("%032x", n+1)}
}

// recordID returns the id of record n of a test.
func recordID(n int) string { return fmt.Sprintf("%032x", 0xabc000000+n) }

// fileSub is a file record, of the file named seed.
func fileSub(n int, seed string) store.Submission {
	sum := sha256.Sum256([]byte(seed))
	body := fmt.Sprintf(`{"digests":{"sha256":"%x"},"size":10,"verdict":"unknown","hash_ms":0.5}`, sum)
	return store.Submission{
		Record: api.Record{ID: recordID(n), Kind: "file", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Body: []byte(body)},
		File:   &store.FileFacts{SHA256: sum, Size: 10, HashMS: 0.5},
	}
}

func systemSub(n int) store.Submission {
	return store.Submission{
		Record: api.Record{ID: recordID(n), Kind: "system", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			Body: []byte(`{"os":"linux","os_version":"6.8.0","arch":"amd64","cpus":8,"memory_gib":16,"ksn_version":"1.0"}`)},
		System: &store.SystemFacts{OS: "linux", OSVersion: "6.8.0", Arch: "amd64", KSNVersion: "1.0", CPUs: 8, MemoryGiB: 16},
	}
}

func urlSub(n int, expr string) store.Submission {
	return store.Submission{
		Record: api.Record{ID: recordID(n), Kind: "url", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			Body: []byte(`{"url":"https://` + expr + `","verdict":"unknown","check_ms":2}`)},
		URL: &store.URLFacts{Key: sha256.Sum256([]byte(expr)), CheckMS: 2},
	}
}

// unlocked binds kek to db.
func unlocked(t *testing.T, db store.ServerDatabase) store.ServerDatabase {
	t.Helper()
	if err := db.UnlockSubmissions(ctx, kek); err != nil {
		t.Fatal(err)
	}
	return db
}

func store1(t *testing.T, db store.ServerDatabase, part store.Sender, at time.Time, subs ...store.Submission) (int, int) {
	t.Helper()
	a, d, err := db.StoreSubmissions(ctx, part, subs, at)
	if err != nil {
		t.Fatal(err)
	}
	return a, d
}

func submissions(t *testing.T, db store.ServerDatabase) int {
	t.Helper()
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st.Submissions
}
