package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
)

func testLookupBaseline(t *testing.T, db store.ServerDatabase) {
	res, err := db.LookupFiles(ctx, []store.FileDigests{
		{checksum.SHA256: mustHex(t, eicarSHA256)},
		{checksum.SHA256: digest(checksum.SHA256, "nobody knows")},
		{checksum.SHA256: []byte("short")}, // the wrong length matches nothing
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].Verdict != reputation.Malicious || res[0].ThreatName != "EICAR-Test-File" ||
		!slices.Equal(res[0].Sources, []string{reputation.BaselineSource}) {
		t.Fatalf("baseline lookup: %+v", res)
	}
	if res[1].Verdict != reputation.Unknown || res[2].Verdict != reputation.Unknown {
		t.Errorf("unknown files: %+v", res[1:])
	}
	if _, err := db.LookupFiles(ctx, []store.FileDigests{{"crc32": []byte{1, 2, 3, 4}}}); err == nil {
		t.Error("an unknown algorithm was not an error")
	}
	algs, err := db.Algorithms(ctx)
	if err != nil || !slices.Equal(algs, []checksum.Algorithm{checksum.SHA256}) {
		t.Errorf("Algorithms of a fresh database = %v, %v; want [sha256]", algs, err)
	}
}

func testLookupImported(t *testing.T, db store.ServerDatabase) {
	first := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	mal := indicator(checksum.SHA256, "mal", reputation.Malicious)
	mal.FirstSeen = first
	importFiles(t, db, "feed-a", mal,
		indicator(checksum.MD5, "md5only", reputation.Suspicious),
		indicator(checksum.BLAKE3, "b3", reputation.Clean))
	importFiles(t, db, "feed-b", indicator(checksum.SHA256, "mal", reputation.Suspicious))

	res, err := db.LookupFiles(ctx, []store.FileDigests{
		{checksum.BLAKE3: digest(checksum.BLAKE3, "b3"), checksum.SHA256: digest(checksum.SHA256, "other")},
		{checksum.SHA256: digest(checksum.SHA256, "mal")},
		{checksum.MD5: digest(checksum.MD5, "md5only"), checksum.SHA256: digest(checksum.SHA256, "x")},
		{checksum.SHA256: digest(checksum.SHA256, "mal")}, // the same file twice
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Verdict != reputation.Clean || !slices.Equal(res[0].Sources, []string{"feed-a"}) {
		t.Errorf("blake3 lookup: %+v", res[0])
	}
	if res[1].Verdict != reputation.Malicious || res[1].ThreatName != "T-mal" ||
		!slices.Equal(res[1].Sources, []string{"feed-a", "feed-b"}) || !res[1].FirstSeen.Equal(first) {
		t.Errorf("merged lookup: %+v", res[1])
	}
	if res[1].LastSeen.IsZero() {
		t.Error("no last-seen time")
	}
	if res[2].Verdict != reputation.Suspicious {
		t.Errorf("md5 lookup: %+v", res[2])
	}
	if res[3].Verdict != res[1].Verdict || !slices.Equal(res[3].Sources, res[1].Sources) {
		t.Errorf("a repeated query answered differently: %+v", res[3])
	}
	algs, err := db.Algorithms(ctx)
	if err != nil || !slices.Equal(algs, []checksum.Algorithm{checksum.BLAKE3, checksum.SHA256, checksum.MD5}) {
		t.Errorf("Algorithms = %v, %v", algs, err)
	}
}

// testLookupLargeBatch looks up more files than one statement of either
// backend's older code carried, with every third one known.
func testLookupLargeBatch(t *testing.T, db store.ServerDatabase) {
	const n = 1500
	var inds []reputation.FileIndicator
	var q []store.FileDigests
	for i := range n {
		seed := fmt.Sprint("big", i)
		if i%3 == 0 {
			inds = append(inds, indicator(checksum.SHA256, seed, reputation.Malicious))
		}
		q = append(q, store.FileDigests{checksum.SHA256: digest(checksum.SHA256, seed)})
	}
	if st := importFiles(t, db, "big", inds...); st.Added != len(inds) {
		t.Fatalf("import: %+v, want %d added", st, len(inds))
	}
	res, err := db.LookupFiles(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != n {
		t.Fatalf("%d results for %d queries", len(res), n)
	}
	for i, r := range res {
		want := reputation.Unknown
		if i%3 == 0 {
			want = reputation.Malicious
		}
		if r.Verdict != want {
			t.Fatalf("result %d: %s, want %s", i, r.Verdict, want)
		}
	}
}

func testImportCounts(t *testing.T, db store.ServerDatabase) {
	a, b, c := indicator(checksum.SHA256, "a", reputation.Malicious), indicator(checksum.SHA256, "b", reputation.Malicious),
		indicator(checksum.SHA1, "c", reputation.Clean)
	if st := importFiles(t, db, "feed", a, b, c, a); st != (store.ImportStats{Added: 3}) {
		t.Errorf("first import: %+v", st)
	}
	b2 := b
	b2.Verdict = reputation.Suspicious
	unsized := c
	unsized.Size = -1 // a size the source does not state is no change
	if st := importFiles(t, db, "feed", a, b2, unsized); st != (store.ImportStats{Updated: 1, Unchanged: 2}) {
		t.Errorf("second import: %+v", st)
	}
	res, _ := db.LookupFiles(ctx, []store.FileDigests{{checksum.SHA256: b.Digest}})
	if res[0].Verdict != reputation.Suspicious {
		t.Errorf("after the update: %+v", res[0])
	}
	for _, reserved := range []string{reputation.OverrideSource, reputation.BaselineSource, "", "two words"} {
		if _, err := db.BeginImport(ctx, reserved); err == nil {
			t.Errorf("BeginImport(%q) succeeded", reserved)
		}
	}
	im, err := db.BeginImport(ctx, "feed")
	if err != nil {
		t.Fatal(err)
	}
	defer im.Rollback()
	bad := a
	bad.Digest = bad.Digest[:3]
	if err := im.Add(bad); err == nil {
		t.Error("a digest of the wrong length was imported")
	}
	if err := im.AddURL(reputation.URLIndicator{Expression: "x.example/"}); err == nil {
		t.Error("a link indicator without its hash was imported")
	}
}

func testImportRollback(t *testing.T, db store.ServerDatabase) {
	im, err := db.BeginImport(ctx, "feed")
	if err != nil {
		t.Fatal(err)
	}
	ind := indicator(checksum.SHA256, "rolled back", reputation.Malicious)
	if err := im.Add(ind); err != nil {
		t.Fatal(err)
	}
	if err := im.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := im.Rollback(); err != nil {
		t.Errorf("a second Rollback: %v", err)
	}
	if _, err := im.Commit(); err == nil {
		t.Error("Commit after Rollback succeeded")
	}
	res, _ := db.LookupFiles(ctx, []store.FileDigests{{checksum.SHA256: ind.Digest}})
	if res[0].Verdict != reputation.Unknown {
		t.Errorf("a rolled back import is visible: %+v", res[0])
	}
}

func testURLs(t *testing.T, db store.ServerDatabase) {
	const testMalware = "testsafebrowsing.appspot.com/s/malware.html" // in the baseline
	base := sha256.Sum256([]byte(testMalware))
	expr := "evil.example/dl/x.exe"
	h := sha256.Sum256([]byte(expr))
	high := store.URLHash{0xff, 0xff, 0xff, 0xff, 9} // the last prefix has no next one
	im, err := db.BeginImport(ctx, "urlhaus")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []reputation.URLIndicator{
		{Hash: h, Expression: expr, Verdict: reputation.Malicious, ThreatName: "dl", Category: "malware_download"},
		{Hash: high, Expression: "high.example/", Verdict: reputation.Suspicious},
	} {
		if err := im.AddURL(u); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := im.Commit(); err != nil || st.Added != 2 {
		t.Fatalf("import: %+v, %v", st, err)
	}
	found, err := db.LookupURLs(ctx, []store.URLHash{h, base, sha256.Sum256([]byte("nobody.example/"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 || found[h][0].Source != "urlhaus" || found[h][0].Expression != expr ||
		found[base][0].Source != reputation.BaselineSource {
		t.Errorf("LookupURLs: %+v", found)
	}
	byPrefix, err := db.URLsByPrefix(ctx, []store.URLPrefix{store.URLPrefix(h[:4]), store.URLPrefix(high[:4]), {0, 0, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	if len(byPrefix) != 2 || len(byPrefix[h]) != 1 || byPrefix[high][0].Verdict != reputation.Suspicious {
		t.Errorf("URLsByPrefix: %+v", byPrefix)
	}
}

func testOverrides(t *testing.T, db store.ServerDatabase) {
	eicar := mustHex(t, eicarSHA256)
	pin := reputation.FileIndicator{Algorithm: checksum.SHA256, Digest: eicar, Size: -1, Verdict: reputation.Clean, ThreatName: "", Category: "allowed"}
	if err := db.SetOverride(ctx, pin); err != nil {
		t.Fatal(err)
	}
	res, _ := db.LookupFiles(ctx, []store.FileDigests{{checksum.SHA256: eicar}})
	if res[0].Verdict != reputation.Clean || !slices.Contains(res[0].Sources, reputation.OverrideSource) {
		t.Errorf("override did not win: %+v", res[0])
	}
	pin.Verdict = reputation.Suspicious
	if err := db.SetOverride(ctx, pin); err != nil {
		t.Fatal(err)
	}
	res, _ = db.LookupFiles(ctx, []store.FileDigests{{checksum.SHA256: eicar}})
	if res[0].Verdict != reputation.Suspicious {
		t.Errorf("replaced override: %+v", res[0])
	}
	if err := db.UnsetOverride(ctx, checksum.SHA256, eicar); err != nil {
		t.Fatal(err)
	}
	res, _ = db.LookupFiles(ctx, []store.FileDigests{{checksum.SHA256: eicar}})
	if res[0].Verdict != reputation.Malicious {
		t.Errorf("after unset: %+v", res[0])
	}
	if err := db.UnsetOverride(ctx, checksum.SHA256, eicar); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unset of a missing override: %v", err)
	}
	bad := pin
	bad.Digest = eicar[:10]
	if err := db.SetOverride(ctx, bad); err == nil {
		t.Error("an override of a short digest was stored")
	}
}

// testURLOverrides: an override of a link expression wins over a feed's
// listing of it, replaces an earlier override, and goes on unset.
func testURLOverrides(t *testing.T, db store.ServerDatabase) {
	expr := "evil.example/dl/x.exe"
	h := sha256.Sum256([]byte(expr))
	im, err := db.BeginImport(ctx, "urlhaus")
	if err != nil {
		t.Fatal(err)
	}
	if err := im.AddURL(reputation.URLIndicator{Hash: h, Expression: expr, Verdict: reputation.Malicious}); err != nil {
		t.Fatal(err)
	}
	if _, err := im.Commit(); err != nil {
		t.Fatal(err)
	}
	merged := func() reputation.Result {
		t.Helper()
		found, err := db.LookupURLs(ctx, []store.URLHash{h})
		if err != nil {
			t.Fatal(err)
		}
		return reputation.MergeURLs(found[h])
	}
	pin := reputation.URLIndicator{Hash: h, Expression: expr}
	for i, v := range []reputation.Verdict{reputation.Clean, reputation.Suspicious} {
		// Set again, an override replaces its verdict, name and category.
		pin.Verdict, pin.ThreatName, pin.Category = v, fmt.Sprint("Name", i), fmt.Sprint("category", i)
		if err := db.SetURLOverride(ctx, pin); err != nil {
			t.Fatal(err)
		}
		if r := merged(); r.Verdict != v || r.ThreatName != pin.ThreatName || r.Category != pin.Category || !slices.Contains(r.Sources, reputation.OverrideSource) {
			t.Errorf("override %s: merged %+v", v, r)
		}
	}
	if err := db.UnsetURLOverride(ctx, h); err != nil {
		t.Fatal(err)
	}
	if r := merged(); r.Verdict != reputation.Malicious {
		t.Errorf("after unset: %+v", r)
	}
	if err := db.UnsetURLOverride(ctx, h); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unset of a missing override: %v", err)
	}
	if err := db.SetURLOverride(ctx, reputation.URLIndicator{Hash: h, Verdict: reputation.Clean}); err == nil {
		t.Error("an override without an expression was stored")
	}
}
