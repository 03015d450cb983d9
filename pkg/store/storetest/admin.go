package storetest

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
)

func testLicenses(t *testing.T, db store.ServerDatabase) {
	before := time.Now().Truncate(time.Second)
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	key, l, err := db.CreateLicense(ctx, "team", &exp)
	if err != nil {
		t.Fatal(err)
	}
	key2, l2, err := db.CreateLicense(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if key == key2 || len(key) < 20 || key[:len(store.LicenseKeyPrefix)] != store.LicenseKeyPrefix || l2.ID <= l.ID {
		t.Fatalf("keys %q %q, ids %d %d", key, key2, l.ID, l2.ID)
	}
	got, err := db.LicenseByKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != l.ID || got.Label != "team" || got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) || got.RevokedAt != nil ||
		got.CreatedAt.Before(before) || got.State(time.Now()) != store.LicenseValid {
		t.Errorf("LicenseByKey: %+v", got)
	}
	if _, err := db.LicenseByKey(ctx, key+"x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown key: %v", err)
	}
	ls, err := db.ListLicenses(ctx)
	if err != nil || len(ls) != 2 || ls[0].ID != l.ID || ls[1].ID != l2.ID || ls[1].ExpiresAt != nil {
		t.Fatalf("ListLicenses: %+v, %v", ls, err)
	}

	// Expiry by id; revocation by key, final and kept at its first time.
	past := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	ext, err := db.ExtendLicense(ctx, strconv.FormatInt(l2.ID, 10), &past)
	if err != nil || ext.State(time.Now()) != store.LicenseExpired {
		t.Errorf("expire: %+v, %v", ext, err)
	}
	if ext, err = db.ExtendLicense(ctx, strconv.FormatInt(l2.ID, 10), nil); err != nil || ext.ExpiresAt != nil {
		t.Errorf("never expire: %+v, %v", ext, err)
	}
	rev, err := db.RevokeLicense(ctx, key)
	if err != nil || rev.RevokedAt == nil || rev.State(time.Now()) != store.LicenseDenylisted {
		t.Fatalf("revoke: %+v, %v", rev, err)
	}
	again, err := db.RevokeLicense(ctx, strconv.FormatInt(l.ID, 10))
	if err != nil || !again.RevokedAt.Equal(*rev.RevokedAt) {
		t.Errorf("second revocation: %+v, %v", again, err)
	}
	if ext, err := db.ExtendLicense(ctx, key, nil); err != nil || ext.State(time.Now()) != store.LicenseDenylisted {
		t.Errorf("extending a revoked license lifted it: %+v, %v", ext, err)
	}
	if _, err := db.RevokeLicense(ctx, "999999"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke of a missing id: %v", err)
	}
	if _, err := db.RevokeLicense(ctx, "not a ref"); !errors.Is(err, store.ErrBadLicenseRef) {
		t.Errorf("revoke of a bad reference: %v", err)
	}
}

func testRestriction(t *testing.T, db store.ServerDatabase) {
	if until, err := db.Restriction(ctx); err != nil || !until.IsZero() {
		t.Fatalf("fresh restriction: %v, %v", until, err)
	}
	until := time.Date(2031, 1, 1, 0, 0, 0, 500_000_000, time.UTC)
	if err := db.SetRestriction(ctx, until); err != nil {
		t.Fatal(err)
	}
	got, err := db.Restriction(ctx)
	if err != nil || !got.Equal(until.Truncate(time.Second).Add(time.Second)) {
		t.Errorf("restriction: %v, %v; want %v rounded up", got, err, until)
	}
	if err := db.SetRestriction(ctx, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Restriction(ctx); err != nil || !got.IsZero() {
		t.Errorf("lifted restriction: %v, %v", got, err)
	}
}

func testStatement(t *testing.T, db store.ServerDatabase) {
	if _, ok, err := db.Statement(ctx); ok || err != nil {
		t.Fatalf("fresh statement: %v, %v", ok, err)
	}
	if err := db.SetStatement(ctx, "We keep what you send.\n"); err != nil {
		t.Fatal(err)
	}
	if text, ok, err := db.Statement(ctx); !ok || err != nil || text != "We keep what you send.\n" {
		t.Errorf("statement: %q, %v, %v", text, ok, err)
	}
	if err := db.SetStatement(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.Statement(ctx); ok {
		t.Error("the statement was not removed")
	}
}

func testKeys(t *testing.T, db store.ServerDatabase) {
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	if _, _, err := db.StoreSubmissions(ctx, participant(0), []store.Submission{fileSub(0, "f")}, at); !errors.Is(err, store.ErrNoKEK) {
		t.Fatalf("storing without a KEK: %v", err)
	}
	if _, ok, err := db.KEKBound(ctx); ok || err != nil {
		t.Fatalf("fresh KEKBound: %v, %v", ok, err)
	}
	// UseKEK binds nothing: a database that never had a key takes any.
	if err := db.UseKEK(ctx, otherKEK); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.KEKBound(ctx); ok {
		t.Fatal("UseKEK bound a key")
	}
	unlocked(t, db)
	fp, ok, err := db.KEKBound(ctx)
	if err != nil || !ok || fp == "" {
		t.Fatalf("KEKBound: %q, %v, %v", fp, ok, err)
	}
	if err := db.UnlockSubmissions(ctx, otherKEK); !errors.Is(err, store.ErrWrongKEK) {
		t.Errorf("another KEK: %v", err)
	}
	var me *store.KEKMismatchError
	if err := db.UseKEK(ctx, otherKEK); !errors.As(err, &me) || me.Want != fp {
		t.Errorf("UseKEK with another key: %v", err)
	}
	store1(t, db, participant(0), at, fileSub(0, "f"), systemSub(1))
	counts, err := db.VerifySealed(ctx)
	if err != nil || len(counts) != 1 || counts[0].HalfYear != "2026H1" || counts[0].Records != 2 || counts[0].Opened != 2 || !counts[0].HasKey {
		t.Errorf("VerifySealed: %+v, %v", counts, err)
	}
	// What is sealed opens into the record as received.
	if r, ok := db.(interface {
		ReadSubmissions(context.Context, func(string, api.Record) error) error
	}); ok {
		var got []api.Record
		if err := r.ReadSubmissions(ctx, func(_ string, rec api.Record) error { got = append(got, rec); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || string(got[0].Body)+string(got[1].Body) == "" {
			t.Errorf("ReadSubmissions: %+v", got)
		}
	} else {
		t.Error("the database cannot read its sealed records back (ReadSubmissions)")
	}
}

func testStats(t *testing.T, db store.ServerDatabase) {
	importFiles(t, db, "feed", indicator(checksum.SHA256, "s1", reputation.Malicious), indicator(checksum.MD5, "s2", reputation.Malicious))
	if err := db.SetOverride(ctx, indicator(checksum.SHA256, "s3", reputation.Clean)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateLicense(ctx, "x", nil); err != nil {
		t.Fatal(err)
	}
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Licenses != 1 || st.Submissions != 0 || st.Indicators["feed"] != 2 || st.Indicators[reputation.OverrideSource] != 1 ||
		st.Indicators[reputation.BaselineSource] != 2 || st.Links[reputation.BaselineSource] == 0 || !st.RestrictedUntil.IsZero() {
		t.Errorf("Stats: %+v", st)
	}
}
