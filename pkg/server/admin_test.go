package server

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/seal"
)

var adminNow = time.Date(2026, 11, 23, 12, 0, 0, 500, time.UTC)

func newAdmin(t *testing.T) *Admin {
	t.Helper()
	a := &Admin{DB: filepath.Join(t.TempDir(), DefaultDBFileName), Now: func() time.Time { return adminNow }}
	if _, created, err := a.Init(context.Background()); err != nil || !created {
		t.Fatalf("init: created %v, %v", created, err)
	}
	return a
}

func TestAdminLicenses(t *testing.T) {
	ctx := context.Background()
	a := newAdmin(t)
	l, err := a.CreateLicense(ctx, "team", Expiry{In: 90 * 24 * time.Hour}, 4)
	if err != nil {
		t.Fatal(err)
	}
	key := l.Key
	want := adminNow.Add(90 * 24 * time.Hour).Truncate(time.Second)
	if !strings.HasPrefix(key, LicenseKeyPrefix) || l.State != LicenseValid || l.ExpiresAt == nil || !l.ExpiresAt.Equal(want) {
		t.Fatalf("created %q %+v; want an expiry of %v, to the second", key, l, want)
	}
	if never, err := a.CreateLicense(ctx, "", Expiry{Never: true}, 0); err != nil || never.ExpiresAt != nil {
		t.Fatalf("never: %+v, %v", never, err)
	}
	if now, err := a.CreateLicense(ctx, "", Expiry{}, 0); err != nil || now.State != LicenseExpired {
		t.Fatalf("an expiry of 0 expires at once: %+v, %v", now, err)
	}
	ls, err := a.ListLicenses(ctx)
	if err != nil || len(ls) != 3 || ls[0].Label != "team" || ls[0].Seats != 4 || ls[1].Seats != 1 {
		t.Fatalf("list: %+v, %v", ls, err)
	}
	if l, err := a.SetSeats(ctx, "2", 7); err != nil || l.Seats != 7 || l.ID != 2 {
		t.Fatalf("seats: %+v, %v", l, err)
	}
	for _, n := range []int{0, -1, 2_000_000} {
		if _, err := a.SetSeats(ctx, "2", n); exitcode.Of(err) != exitcode.Usage {
			t.Errorf("seats %d: %v, want a usage error", n, err)
		}
	}
	if _, err := a.CreateLicense(ctx, "", Expiry{Never: true}, -3); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("create with -3 seats: %v, want a usage error", err)
	}

	if _, err := a.RevokeLicense(ctx, key); err != nil {
		t.Fatal(err)
	}
	l, err = a.ExtendLicense(ctx, "1", Expiry{Never: true})
	if err != nil || l.State != LicenseDenylisted || l.ExpiresAt != nil {
		t.Errorf("extending a revoked license: %+v, %v; want it still denylisted", l, err)
	}
	for _, ref := range []string{"42", "nonsense", LicenseKeyPrefix + "unknown"} {
		_, err := a.RevokeLicense(ctx, ref)
		var e *exitcode.Error
		if !errors.As(err, &e) || e.Code != exitcode.Usage {
			t.Errorf("revoke %s: %v, want a usage error", ref, err)
		}
		if err != nil && strings.Contains(err.Error(), "unknown") {
			t.Errorf("revoke %s: the error shows the key: %v", ref, err)
		}
	}
}

func TestAdminOverrides(t *testing.T) {
	ctx := context.Background()
	a := newAdmin(t)
	for _, c := range []struct {
		digest, alg, verdict string
		want                 string // algorithm, or "" for a usage error
	}{
		{strings.Repeat("ab", 32), "", "clean", "sha256"},
		{strings.Repeat("ab", 32), "blake3", "malicious", "blake3"},
		{strings.Repeat("ab", 20), "", "suspicious", "sha1"},
		{strings.Repeat("ab", 16), "", "clean", "md5"},
		{strings.Repeat("ab", 12), "", "clean", ""},
		{strings.Repeat("ab", 32), "md5", "clean", ""},
		{strings.Repeat("ab", 32), "sha3", "clean", ""},
		{strings.Repeat("ab", 32), "", "evil", ""},
	} {
		p, err := a.SetOverride(ctx, Override{Digest: c.digest, Algorithm: c.alg, Verdict: c.verdict})
		switch {
		case c.want == "" && exitcode.Of(err) != exitcode.Usage:
			t.Errorf("%+v: %v, want a usage error", c, err)
		case c.want != "" && (err != nil || string(p.Algorithm) != c.want || string(p.Verdict) != c.verdict):
			t.Errorf("%+v: %+v, %v", c, p, err)
		}
	}
	_, err := a.SetOverride(ctx, Override{Digest: "xyz", Verdict: "clean"})
	if !errors.Is(err, ErrNotHexDigest) || exitcode.Of(err) != exitcode.Usage {
		t.Errorf("not hex: %v", err)
	}
	if _, err := a.UnsetOverride(ctx, strings.Repeat("ab", 32), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UnsetOverride(ctx, strings.Repeat("ab", 32), ""); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("second unset: %v, want a usage error", err)
	}
}

// TestAdminLinkOverrides: what an override argument is taken for, and
// that no error repeats a password a link carried.
func TestAdminLinkOverrides(t *testing.T) {
	ctx := context.Background()
	a := newAdmin(t)
	for _, c := range []struct {
		arg, alg string
		want     string // the subject, or "" for a usage error
	}{
		{"HTTPS://Host.Example./a/../b?q=1#f", "", "link host.example/b?q=1"},
		{"https://jane:pw@host.example/", "", "link host.example/"},
		{"http://intranet/", "", "link intranet/"},
		{"intranet/tools", "", "link intranet/tools"},
		{strings.Repeat("ab", 32) + ".", "", ""}, // a digest and a stray dot is no host
		{strings.Repeat("ab", 20) + " .", "", ""},
		{"https://host.example/", "sha256", ""},
		{"https://user:hunter22@[oops/", "", ""},
		{"intranet", "", ""}, // one label: taken for a mistyped digest
	} {
		p, err := a.SetOverride(ctx, Override{Digest: c.arg, Algorithm: c.alg, Verdict: "clean"})
		switch {
		case c.want == "" && exitcode.Of(err) != exitcode.Usage:
			t.Errorf("%q: %+v, %v; want a usage error", c.arg, p, err)
		case c.want != "" && (err != nil || p.Subject() != c.want):
			t.Errorf("%q: %q, %v; want %q", c.arg, p.Subject(), err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), "hunter22") || strings.Contains(err.Error(), "jane")) {
			t.Errorf("%q: the error shows the userinfo: %v", c.arg, err)
		}
	}
	if _, err := a.UnsetOverride(ctx, "https://host.example/", ""); err != nil {
		t.Fatal(err)
	}
	_, err := a.UnsetOverride(ctx, "https://HOST.example/", "")
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "no override for link host.example/") {
		t.Errorf("second unset: %v; want a usage error naming the link", err)
	}
	if _, err := a.SetOverride(ctx, Override{Digest: "https://user:hunter22@host.example/", Algorithm: "md5", Verdict: "clean"}); err == nil || strings.Contains(err.Error(), "hunter22") {
		t.Errorf("--algorithm with a link: %v", err)
	}
}

func TestAdminRestrict(t *testing.T) {
	ctx := context.Background()
	missing := &Admin{DB: filepath.Join(t.TempDir(), "typo.db")}
	if _, err := missing.Restrict(ctx, 0); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("restrict for 0: %v", err)
	}
	if _, err := missing.Restrict(ctx, time.Hour); exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "no server database") {
		t.Errorf("restrict on a database that is not there: %v", err)
	}
	if _, err := os.Stat(missing.DB); !os.IsNotExist(err) {
		t.Error("a refused restriction created the database")
	}
	a := newAdmin(t)
	until, err := a.Restrict(ctx, 10*time.Minute)
	if err != nil || !until.Equal(adminNow.Add(10*time.Minute)) {
		t.Fatalf("restrict: %v, %v", until, err)
	}
	st, err := a.Stats(ctx, 14, 10)
	if err != nil || st.Restricted == nil || st.Restricted.Before(until) {
		t.Fatalf("stats while restricted: %+v, %v", st.Restricted, err)
	}
	if err := a.LiftRestriction(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := a.Stats(ctx, 14, 10); err != nil || st.Restricted != nil {
		t.Errorf("stats after lifting: %+v, %v", st.Restricted, err)
	}
	if _, err := a.Stats(ctx, -1, 0); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("stats --days -1: %v", err)
	}
}

func TestChooseKEK(t *testing.T) {
	env := func(k string) string {
		if k == KEKEnv {
			return "/env.kek"
		}
		return ""
	}
	for _, c := range []struct {
		flag string
		env  func(string) string
		want KEKSource
	}{
		{"flag.kek", env, KEKSource{"flag.kek", "--kek-file"}},
		{"", env, KEKSource{"/env.kek", KEKEnv}},
		{"", nil, KEKSource{}},
	} {
		if got := ChooseKEK(c.flag, c.env); got != c.want {
			t.Errorf("ChooseKEK(%q) = %+v, want %+v", c.flag, got, c.want)
		}
	}
}

func TestAdminVerify(t *testing.T) {
	ctx := context.Background()
	a := newAdmin(t)
	dir := t.TempDir()
	right, other := filepath.Join(dir, "right.kek"), filepath.Join(dir, "other.kek")
	if _, err := seal.WriteKEKFile(other); err != nil {
		t.Fatal(err)
	}
	// A database nothing was sealed in yet has no key: the default file
	// is not made by a verification.
	if _, err := a.Verify(ctx, KEKSource{}); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("verify without a key file: %v", err)
	}
	if _, err := os.Stat(a.DB + kekSuffix); !os.IsNotExist(err) {
		t.Error("verify made a key file")
	}

	// A first start binds the database to its key.
	if err := Keygen(right); err != nil {
		t.Fatal(err)
	}
	if err := Keygen(right); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("keygen over an existing key: %v", err)
	}
	runUntilListening(t, RunOptions{Listen: "127.0.0.1:0", DB: a.DB, Keys: KeyPlaces{KEK: KEKSource{Path: right}}})
	rep, err := a.Verify(ctx, KEKSource{Path: right})
	if err != nil || !rep.OK || rep.KEKFile != right {
		t.Errorf("verify with the right key: %+v, %v", rep, err)
	}
	_, err = a.Verify(ctx, KEKSource{Path: other, From: KEKEnv})
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "is not the one") {
		t.Errorf("verify with another key: %v", err)
	}
}

// runUntilListening runs Run until it listens and checks that it answers
// (and whatever the checks check), then stops it, and returns what it
// told once listening.
func runUntilListening(t *testing.T, o RunOptions, checks ...func(Listening)) Listening {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listening := make(chan Listening, 1)
	o.Listening = func(l Listening) { listening <- l }
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()
	var l Listening
	select {
	case l = <-listening:
	case err := <-done:
		t.Fatalf("Run returned before listening: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not listen")
	}
	resp, err := http.Get(l.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: %s", resp.Status)
	}
	for _, check := range checks {
		check(l)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	return l
}

func TestRun(t *testing.T) {
	db := filepath.Join(t.TempDir(), DefaultDBFileName)
	var warnings []string
	o := RunOptions{Listen: "127.0.0.1:0", DB: db, Warn: func(m string) { warnings = append(warnings, m) }}
	first := runUntilListening(t, o)
	if !strings.HasPrefix(first.URL, "http://127.0.0.1:") || first.DB != db || first.KEKFile != db+kekSuffix || !first.KEKCreated {
		t.Errorf("first start: %+v", first)
	}
	if again := runUntilListening(t, o); again.KEKCreated || again.KEKFile != first.KEKFile {
		t.Errorf("second start: %+v; want the key of the first", again)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings on loopback with a private key file: %q", warnings)
	}
}
