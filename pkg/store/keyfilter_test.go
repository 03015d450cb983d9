package store

import (
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

func TestKeyFilter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 5, 1000, 100_000} {
		fps := make([]uint64, n)
		for i := range fps {
			fps[i] = rng.Uint64()
		}
		if n > 1 { // the edges of the bucket index
			fps[0], fps[n-1] = 0, ^uint64(0)
		}
		want := slices.Clone(fps)
		f := newKeyFilter(fps)
		for _, fp := range want {
			if !f.has(fp) {
				t.Fatalf("n=%d: %x built in, not found", n, fp)
			}
		}
		slices.Sort(want)
		// 64-bit fingerprints: a random one absent from n keys is found
		// with probability n/2⁶⁴.
		for range 10_000 {
			fp := rng.Uint64()
			if _, in := slices.BinarySearch(want, fp); f.has(fp) != in {
				t.Fatalf("n=%d: has(%x) = %v, built in %v", n, fp, !in, in)
			}
		}
	}
}

func TestFilterMayMatch(t *testing.T) {
	held := sha256.Sum256([]byte("held"))
	other := sha256.Sum256([]byte("other"))
	f := &serverFilter{fp: newFingerprints(), algs: map[checksum.Algorithm]bool{checksum.SHA256: true}}
	kf := newKeyFilter([]uint64{f.fp.file(checksum.SHA256, held[:])})
	for _, tc := range []struct {
		name string
		d    FileDigests
		want bool
	}{
		{"held", FileDigests{checksum.SHA256: held[:]}, true},
		{"held beside another", FileDigests{checksum.BLAKE3: other[:], checksum.SHA256: held[:]}, true},
		{"not held", FileDigests{checksum.SHA256: other[:]}, false},
		{"held bytes under another algorithm", FileDigests{checksum.BLAKE3: held[:]}, false},
		{"an algorithm no indicator is keyed by", FileDigests{checksum.SHA1: held[:20]}, false},
		{"wrong length matches nothing", FileDigests{checksum.SHA256: held[:16]}, false},
		{"unknown algorithm: the database refuses it", FileDigests{"sha3": other[:]}, true},
		{"no digests", FileDigests{}, false},
	} {
		if got := f.mayMatch(kf.has, tc.d); got != tc.want {
			t.Errorf("%s: mayMatch = %v, want %v", tc.name, got, tc.want)
		}
	}
	if f.fp.object("file", held[:]) == f.fp.object("spam_body", held[:]) {
		t.Error("an object's kind does not change its fingerprint")
	}
}

// filterCurrent reports whether s's filter covers its database now.
func filterCurrent(s *Server) bool {
	return s.filter.probe(context.Background(), s, func(func(uint64) bool) {})
}

// waitFilter waits until s's filter covers its database's generation.
func waitFilter(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !filterCurrent(s) {
		if time.Now().After(deadline) {
			t.Fatal("the key filter was never built")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Another process's import or override is seen by the very next lookup
// of a server answering from its filter, and lookups through the filter
// answer what SQLite would.
func TestServerFilterSeesOtherWriters(t *testing.T) {
	ctx := context.Background()
	srv, path := openServerTemp(t)
	other, err := OpenServer(ctx, path) // as `ksn feed import --db` or `ksn admin` would
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	imported, overridden, never := digestOf(1), digestOf(2), digestOf(3)
	lookupOne(t, srv, FileDigests{checksum.SHA256: imported})
	waitFilter(t, srv)
	if r := lookupOne(t, srv, FileDigests{checksum.SHA256: imported}); r.Verdict != reputation.Unknown {
		t.Fatalf("before the import: %+v", r)
	}

	importAll(t, other, "feed", []reputation.FileIndicator{{Algorithm: checksum.SHA256, Digest: imported, Size: 1, Verdict: reputation.Malicious, ThreatName: "Imported"}})
	if r := lookupOne(t, srv, FileDigests{checksum.SHA256: imported}); r.Verdict != reputation.Malicious {
		t.Errorf("the import of another process is not seen: %+v", r)
	}
	waitFilter(t, srv)
	if r := lookupOne(t, srv, FileDigests{checksum.SHA256: imported}); r.Verdict != reputation.Malicious || r.ThreatName != "Imported" {
		t.Errorf("through the rebuilt filter: %+v", r)
	}

	if err := other.SetOverride(ctx, reputation.FileIndicator{Algorithm: checksum.SHA256, Digest: overridden, Verdict: reputation.Suspicious, ThreatName: "Operator"}); err != nil {
		t.Fatal(err)
	}
	if r := lookupOne(t, srv, FileDigests{checksum.SHA256: overridden}); r.Verdict != reputation.Suspicious {
		t.Errorf("an override set by another process is not seen: %+v", r)
	}
	waitFilter(t, srv)

	// A batch through the filter: results in query order, the known ones
	// found, the EICAR baseline too.
	eicar := sha256.Sum256([]byte(`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`))
	got, err := srv.LookupFiles(ctx, []FileDigests{
		{checksum.SHA256: never},
		{checksum.SHA256: imported},
		{checksum.BLAKE3: never, checksum.SHA256: overridden},
		{checksum.SHA256: eicar[:]},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []reputation.Verdict{reputation.Unknown, reputation.Malicious, reputation.Suspicious, reputation.Malicious}
	for i, r := range got {
		if r.Verdict != want[i] {
			t.Errorf("result %d: %s, want %s", i, r.Verdict, want[i])
		}
	}
	if !filterCurrent(srv) {
		t.Error("the filter went stale without a write")
	}
	if _, err := srv.LookupFiles(ctx, []FileDigests{{"sha3": never}}); err == nil {
		t.Error("an unknown algorithm was not refused through the filter")
	}
}

// This server's own submissions keep its filter current: the objects
// they add are counted by the next lookup, without a rebuild. Another
// process's submissions are seen as well.
func TestServerFilterSubmissions(t *testing.T) {
	ctx := context.Background()
	srv, path := openServerTemp(t)
	if err := srv.UnlockSubmissions(ctx, testKEK); err != nil {
		t.Fatal(err)
	}
	other, err := OpenServer(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.UnlockSubmissions(ctx, testKEK); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	stats := func(n int) int64 {
		t.Helper()
		got, err := srv.ObjectStats(ctx, ObjectFile, [][]byte{digestOf(n)})
		if err != nil {
			t.Fatal(err)
		}
		return got[string(digestOf(n))].Participants
	}
	if stats(1) != 0 {
		t.Fatal("an object nobody reported has participants")
	}
	waitFilter(t, srv)

	if _, _, err := srv.StoreSubmissions(ctx, sender(partA), []Submission{fileSub(recID(1), 1)}, at); err != nil {
		t.Fatal(err)
	}
	if !filterCurrent(srv) {
		t.Error("this server's own submission made its filter stale")
	}
	if got := stats(1); got != 1 {
		t.Errorf("after this server's submission: %d participants, want 1", got)
	}

	if _, _, err := other.StoreSubmissions(ctx, sender(partB), []Submission{fileSub(recID(2), 2)}, at); err != nil {
		t.Fatal(err)
	}
	if got := stats(2); got != 1 {
		t.Errorf("after another process's submission: %d participants, want 1", got)
	}
	waitFilter(t, srv)
	if stats(1) != 1 || stats(2) != 1 || stats(3) != 0 {
		t.Errorf("through the rebuilt filter: %d, %d, %d participants", stats(1), stats(2), stats(3))
	}
}

// WarmLookups leaves the filter current, counting every key, and
// answers at once when it already is.
func TestWarmLookups(t *testing.T) {
	ctx := context.Background()
	srv, _ := openServerTemp(t)
	importAll(t, srv, "feed", []reputation.FileIndicator{
		{Algorithm: checksum.SHA256, Digest: digestOf(1), Size: 1, Verdict: reputation.Malicious},
		{Algorithm: checksum.SHA256, Digest: digestOf(2), Size: 1, Verdict: reputation.Malicious},
	})
	for range 2 {
		keys, err := srv.WarmLookups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if keys != 4 { // the two imported and the baseline's two
			t.Errorf("%d keys, want 4", keys)
		}
		if !filterCurrent(srv) {
			t.Error("the filter is not current after WarmLookups")
		}
	}
}
