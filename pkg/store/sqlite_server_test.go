package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

func TestLicenseLifecycle(t *testing.T) {
	ctx := context.Background()
	s, _ := openServerTemp(t)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }

	exp := now.Add(90 * 24 * time.Hour)
	key, l, err := s.CreateLicense(ctx, "team a", &exp)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, LicenseKeyPrefix) || len(key) != len(LicenseKeyPrefix)+32 {
		t.Errorf("key %q: want %s + 32 characters", key, LicenseKeyPrefix)
	}
	if l.ID <= 0 || l.Label != "team a" || !l.CreatedAt.Equal(now) || l.ExpiresAt == nil || !l.ExpiresAt.Equal(exp) {
		t.Errorf("created license = %+v", l)
	}
	key2, _, err := s.CreateLicense(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if key2 == key {
		t.Fatal("two licenses got the same key")
	}

	// The key itself is nowhere in the database.
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM licenses WHERE CAST(key_sha256 AS TEXT) LIKE ?`, "%"+key[4:]+"%").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("the key is stored in clear")
	}

	got, err := s.LicenseByKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != l.ID || got.State(now) != LicenseValid {
		t.Errorf("LicenseByKey = %+v, state %s", got, got.State(now))
	}
	if got.State(exp) != LicenseExpired {
		t.Errorf("state at expiry = %s, want expired", got.State(exp))
	}
	if _, err := s.LicenseByKey(ctx, "ksn_unknown"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown key: err = %v, want ErrNotFound", err)
	}

	// Extend by id, then by key; nil removes the expiry.
	later := exp.Add(30 * 24 * time.Hour)
	if got, err = s.ExtendLicense(ctx, strconv.FormatInt(l.ID, 10), &later); err != nil || !got.ExpiresAt.Equal(later) {
		t.Fatalf("ExtendLicense by id = %+v, %v", got, err)
	}
	if got, err = s.ExtendLicense(ctx, key, nil); err != nil || got.ExpiresAt != nil {
		t.Fatalf("ExtendLicense by key to never = %+v, %v", got, err)
	}

	// Revocation is final and keeps its first time.
	if got, err = s.RevokeLicense(ctx, key); err != nil || got.State(now) != LicenseDenylisted {
		t.Fatalf("RevokeLicense = %+v, %v", got, err)
	}
	first := *got.RevokedAt
	s.now = func() time.Time { return now.Add(time.Hour) }
	if got, err = s.RevokeLicense(ctx, strconv.FormatInt(l.ID, 10)); err != nil || !got.RevokedAt.Equal(first) {
		t.Fatalf("second RevokeLicense = %+v, %v; want revoked_at kept at %v", got, err, first)
	}
	if got, err = s.ExtendLicense(ctx, key, &later); err != nil || got.State(now) != LicenseDenylisted {
		t.Fatalf("extend after revoke = %+v, %v; want still denylisted", got, err)
	}

	for _, bad := range []string{"999", "ksn_nothere"} {
		if _, err := s.RevokeLicense(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("RevokeLicense(%q): err = %v, want ErrNotFound", bad, err)
		}
	}
	if _, err := s.RevokeLicense(ctx, "abc"); !errors.Is(err, ErrBadLicenseRef) {
		t.Errorf("RevokeLicense(abc): err = %v, want a usage error", err)
	}
	_, err = s.RevokeLicense(ctx, "ksn_secretsecret")
	if err == nil || strings.Contains(err.Error(), "secretsecret") {
		t.Errorf("error %v shows the key", err)
	}

	ls, err := s.ListLicenses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || ls[0].ID != l.ID || ls[1].ExpiresAt != nil {
		t.Errorf("ListLicenses = %+v", ls)
	}
}

func TestStoreSubmissionsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := openSealed(t)
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	a := strings.Repeat("a", 32)
	b := strings.Repeat("b", 32)
	c := strings.Repeat("c", 32)

	acc, dup, err := s.StoreSubmissions(ctx, sender(partA), []Submission{fileSub(a, 1), fileSub(b, 2), fileSub(a, 1)}, at)
	if err != nil || acc != 2 || dup != 1 {
		t.Fatalf("first batch: accepted %d, duplicates %d, err %v; want 2, 1", acc, dup, err)
	}
	acc, dup, err = s.StoreSubmissions(ctx, sender(partA), []Submission{fileSub(b, 2), systemSub(c, "6.8.0-45-generic")}, at)
	if err != nil || acc != 1 || dup != 1 {
		t.Fatalf("second batch: accepted %d, duplicates %d, err %v; want 1, 1", acc, dup, err)
	}
	if n := countRows(t, s, "sealed_submissions"); n != 3 {
		t.Fatalf("%d rows, want 3", n)
	}
	// A duplicate counts nowhere: 3 records, of 2 files.
	agg, err := s.Aggregates(ctx, AggregateOptions{Top: 10})
	if err != nil {
		t.Fatal(err)
	}
	if agg.Kinds["file"] != 2 || agg.Kinds["system"] != 1 || agg.Objects["file"] != 2 || len(agg.Systems) != 1 || agg.Systems[0].Records != 1 {
		t.Errorf("aggregates %+v", agg)
	}

	for _, bad := range []string{"", strings.Repeat("A", 32), strings.Repeat("g", 32), strings.Repeat("a", 31)} {
		if _, _, err := s.StoreSubmissions(ctx, sender(partA), []Submission{fileSub(strings.Repeat("d", 32), 1), fileSub(bad, 1)}, at); err == nil {
			t.Errorf("id %q accepted", bad)
		}
	}
	for _, bad := range []string{"", "00", strings.Repeat("A", 32), strings.Repeat("g", 32)} {
		if _, _, err := s.StoreSubmissions(ctx, sender(bad), []Submission{fileSub(strings.Repeat("d", 32), 1)}, at); err == nil {
			t.Errorf("participant %q accepted", bad)
		}
	}
	if n := countRows(t, s, "sealed_submissions"); n != 3 {
		t.Fatalf("a refused batch stored something: %d rows, want 3", n)
	}
}

func TestServerSettings(t *testing.T) {
	ctx := context.Background()
	s, _ := openServerTemp(t)

	if until, err := s.Restriction(ctx); err != nil || !until.IsZero() {
		t.Fatalf("fresh Restriction = %v, %v", until, err)
	}
	until := time.Date(2026, 11, 23, 12, 10, 0, 500, time.UTC)
	if err := s.SetRestriction(ctx, until); err != nil {
		t.Fatal(err)
	}
	got, err := s.Restriction(ctx)
	if err != nil || got.Before(until) || got.Sub(until) > time.Second {
		t.Fatalf("Restriction = %v, %v; want %v rounded up", got, err, until)
	}
	if err := s.SetRestriction(ctx, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Restriction(ctx); err != nil || !got.IsZero() {
		t.Fatalf("Restriction after off = %v, %v", got, err)
	}

	if _, ok, err := s.Statement(ctx); ok || err != nil {
		t.Fatalf("fresh Statement: ok %v, err %v", ok, err)
	}
	if err := s.SetStatement(ctx, "be nice\n"); err != nil {
		t.Fatal(err)
	}
	if text, ok, err := s.Statement(ctx); !ok || err != nil || text != "be nice\n" {
		t.Fatalf("Statement = %q, %v, %v", text, ok, err)
	}
}

func TestStats(t *testing.T) {
	ctx := context.Background()
	s, _ := openServerTemp(t)
	if _, _, err := s.CreateLicense(ctx, "", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.UnlockSubmissions(ctx, testKEK); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.StoreSubmissions(ctx, sender(partA), []Submission{fileSub(strings.Repeat("a", 32), 1)}, time.Now()); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Licenses != 1 || st.Submissions != 1 || st.Indicators["baseline"] != 2 || !st.RestrictedUntil.IsZero() {
		t.Errorf("Stats = %+v", st)
	}
}

// TestFeedIntoServerDatabase: `ksn feed import --db` opens a server's
// database as a local one to import a feed; the server must then answer
// with it, and the server's own rows must survive the other opening.
func TestFeedIntoServerDatabase(t *testing.T) {
	ctx := context.Background()
	srv, path := openServerTemp(t)
	if _, _, err := srv.CreateLicense(ctx, "kept", nil); err != nil {
		t.Fatal(err)
	}
	local, err := OpenLocal(ctx, path)
	if err != nil {
		t.Fatalf("OpenLocal of a server database: %v", err)
	}
	d := randomDigest(checksum.SHA256)
	importAll(t, local, "malwarebazaar", []reputation.FileIndicator{{Algorithm: checksum.SHA256, Digest: d, Size: 1, Verdict: reputation.Malicious}})
	if err := local.Close(); err != nil {
		t.Fatal(err)
	}
	if r := lookupOne(t, srv, FileDigests{checksum.SHA256: d}); r.Verdict != reputation.Malicious {
		t.Errorf("the server does not see the imported feed: %+v", r)
	}
	if ls, err := srv.ListLicenses(ctx); err != nil || len(ls) != 1 || ls[0].Label != "kept" {
		t.Errorf("licenses after the import: %+v, %v", ls, err)
	}
}
