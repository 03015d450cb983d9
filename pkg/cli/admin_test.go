package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/server"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
)

func adminFixture(t *testing.T) (*AdminOptions, *term.IOStreams, func() (string, string)) {
	t.Helper()
	ios, _, out, errOut := term.Test()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	opts := &AdminOptions{IO: ios, DB: filepath.Join(t.TempDir(), "server.db"), Now: func() time.Time { return now }}
	if _, _, err := opts.admin().Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	take := func() (string, string) {
		o, e := out.String(), errOut.String()
		out.Reset()
		errOut.Reset()
		return o, e
	}
	return opts, ios, take
}

// admin runs `ksn admin ARGS` with opts, as the command tree does.
func admin(t *testing.T, opts *AdminOptions, args ...string) error {
	t.Helper()
	cmd := &cobra.Command{Use: "admin", SilenceErrors: true, SilenceUsage: true}
	cmd.AddCommand(adminCommands(opts)...)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return cmd.Execute()
}

func openAdminDB(t *testing.T, opts *AdminOptions) *store.Server {
	t.Helper()
	db, err := store.OpenServer(context.Background(), opts.DB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAdminLicense(t *testing.T) {
	ctx := context.Background()
	opts, _, take := adminFixture(t)

	if err := admin(t, opts, "license", "create", "--label", "build farm", "--expires", "90d"); err != nil {
		t.Fatal(err)
	}
	out, errOut := take()
	key := strings.TrimSpace(out)
	if !strings.HasPrefix(key, store.LicenseKeyPrefix) || strings.Contains(key, "\n") {
		t.Fatalf("create printed %q, want the key alone", out)
	}
	if !strings.Contains(errOut, "license 1 created (expires 2027-02-21T12:00:00Z)") {
		t.Errorf("create said %q", errOut)
	}
	db := openAdminDB(t, opts)
	l, err := db.LicenseByKey(ctx, key)
	if err != nil || l.Label != "build farm" {
		t.Fatalf("the printed key does not open its license: %+v, %v", l, err)
	}

	if err := admin(t, opts, "license", "create", "--seats", "3", "--json"); err != nil {
		t.Fatal(err)
	}
	out, _ = take()
	var created server.LicenseStatus
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.ID != 2 || created.Key == "" || created.ExpiresAt != nil || created.State != "valid" || created.Seats != 3 {
		t.Fatalf("create --json: %q (%v)", out, err)
	}

	if err := admin(t, opts, "license", "create", "--expires", "soon"); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("--expires soon: err %v, want a usage error", err)
	}

	// list never shows keys.
	if err := admin(t, opts, "license", "list"); err != nil {
		t.Fatal(err)
	}
	out, _ = take()
	if strings.Contains(out, key) || strings.Contains(out, created.Key) || !strings.Contains(out, "build farm") || !strings.Contains(out, "never") {
		t.Errorf("list:\n%s", out)
	}
	if err := admin(t, opts, "license", "list", "--json"); err != nil {
		t.Fatal(err)
	}
	out, _ = take()
	var list []server.LicenseStatus
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 || list[0].Key != "" || list[1].Key != "" {
		t.Fatalf("list --json: %q (%v)", out, err)
	}

	// extend, by id and by key.
	if err := admin(t, opts, "license", "extend", "1", "--expires", "30d"); err != nil {
		t.Fatal(err)
	}
	if out, _ = take(); out != "license 1 expires 2026-12-23T12:00:00Z\n" {
		t.Errorf("extend printed %q", out)
	}
	if err := admin(t, opts, "license", "extend", key, "--expires", "never"); err != nil {
		t.Fatal(err)
	}
	if l, _ := db.LicenseByKey(ctx, key); l.ExpiresAt != nil {
		t.Errorf("extend --expires never left %v", l.ExpiresAt)
	}
	take()

	// revoke.
	if err := admin(t, opts, "license", "revoke", key); err != nil {
		t.Fatal(err)
	}
	if out, _ = take(); out != "license 1 denylisted\n" {
		t.Errorf("revoke printed %q", out)
	}
	if l, _ := db.LicenseByKey(ctx, key); l.State(time.Now()) != store.LicenseDenylisted {
		t.Errorf("state after revoke: %s", l.State(time.Now()))
	}
	for _, bad := range []string{"42", "ksn_nope", "bogus"} {
		err := admin(t, opts, "license", "revoke", bad)
		if exitcode.Of(err) != exitcode.Usage {
			t.Errorf("revoke %s: err %v, want a usage error", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "ksn_nope") {
			t.Errorf("the error shows the key: %v", err)
		}
	}
	if err := admin(t, opts, "license", "extend", "1", "--expires", "1d"); err != nil {
		t.Fatal(err)
	}
	if _, errOut = take(); !strings.Contains(errOut, "denylisted") {
		t.Errorf("extending a denylisted license does not warn: %q", errOut)
	}
}

const eicarSHA256Hex = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"

func TestAdminVerdict(t *testing.T) {
	ctx := context.Background()
	opts, _, take := adminFixture(t)

	if err := admin(t, opts, "verdict", "set", eicarSHA256Hex, "clean"); err != nil {
		t.Fatal(err)
	}
	if out, _ := take(); out != "sha256 "+eicarSHA256Hex+": clean (override)\n" {
		t.Errorf("set printed %q", out)
	}
	db := openAdminDB(t, opts)
	res, err := db.LookupFiles(ctx, []store.FileDigests{{"sha256": mustHexCLI(t, eicarSHA256Hex)}})
	if err != nil || res[0].Verdict != reputation.Clean {
		t.Fatalf("EICAR after override: %+v, %v", res, err)
	}

	// The same hex as BLAKE3 is another digest.
	if err := admin(t, opts, "verdict", "set", eicarSHA256Hex, "malicious", "--algorithm", "blake3", "--name", "X", "--category", "test"); err != nil {
		t.Fatal(err)
	}
	res, _ = db.LookupFiles(ctx, []store.FileDigests{{"blake3": mustHexCLI(t, eicarSHA256Hex)}})
	if res[0].Verdict != reputation.Malicious || res[0].ThreatName != "X" {
		t.Errorf("blake3 override: %+v", res[0])
	}

	if err := admin(t, opts, "verdict", "unset", eicarSHA256Hex); err != nil {
		t.Fatal(err)
	}
	res, _ = db.LookupFiles(ctx, []store.FileDigests{{"sha256": mustHexCLI(t, eicarSHA256Hex)}})
	if res[0].Verdict != reputation.Malicious {
		t.Errorf("EICAR after unset: %+v", res[0])
	}
	if err := admin(t, opts, "verdict", "unset", eicarSHA256Hex); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("second unset: err %v, want a usage error", err)
	}

	for _, c := range []struct{ digest, verdict, alg string }{
		{"xyz", "clean", ""},
		{"abcd", "clean", ""},
		{eicarSHA256Hex, "evil", ""},
		{eicarSHA256Hex, "clean", "md5"},
		{eicarSHA256Hex, "clean", "sha3"},
	} {
		if err := admin(t, opts, "verdict", "set", c.digest, c.verdict, "--algorithm", c.alg); exitcode.Of(err) != exitcode.Usage {
			t.Errorf("set %+v: err %v, want a usage error", c, err)
		}
	}
	// SHA-1 and MD5 by length.
	if err := admin(t, opts, "verdict", "set", strings.Repeat("ab", 20), "suspicious"); err != nil {
		t.Error(err)
	}
	if err := admin(t, opts, "verdict", "set", strings.Repeat("ab", 16), "suspicious"); err != nil {
		t.Error(err)
	}
	if out, _ := take(); !strings.Contains(out, "sha1 ") || !strings.Contains(out, "md5 ") {
		t.Errorf("set printed %q", out)
	}
}

func mustHexCLI(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAdminRestrict(t *testing.T) {
	ctx := context.Background()
	opts, _, take := adminFixture(t)
	if err := admin(t, opts, "restrict", "files", "--for", "10m"); err != nil {
		t.Fatal(err)
	}
	if out, _ := take(); out != "file reputation restricted until 2026-11-23T12:10:00Z\n" {
		t.Errorf("restrict printed %q", out)
	}
	db := openAdminDB(t, opts)
	until, err := db.Restriction(ctx)
	if err != nil || !until.Equal(opts.Now().Add(10*time.Minute)) {
		t.Errorf("Restriction = %v, %v", until, err)
	}
	for _, bad := range []string{"", "0", "ten minutes", "-5m"} {
		if err := admin(t, opts, "restrict", "files", "--for", bad); exitcode.Of(err) != exitcode.Usage {
			t.Errorf("--for %q: err %v, want a usage error", bad, err)
		}
	}
	if err := admin(t, opts, "restrict", "off"); err != nil {
		t.Fatal(err)
	}
	if until, err := db.Restriction(ctx); err != nil || !until.IsZero() {
		t.Errorf("after off: %v, %v", until, err)
	}
}

// TestAdminCommandTree runs the cobra commands, so that flags, arguments and
// the default database path are wired as documented.
func TestAdminCommandTree(t *testing.T) {
	home := t.TempDir()
	ios, _, out, errOut := term.Test()
	f := &Factory{IO: ios, Env: func(k string) string {
		if k == "KSN_HOME" {
			return home
		}
		return ""
	}}
	run := func(args ...string) error {
		out.Reset()
		errOut.Reset()
		cmd := NewCmdAdmin(f)
		cmd.SetArgs(args)
		cmd.SetOut(out)
		cmd.SetErr(errOut)
		return cmd.ExecuteContext(context.Background())
	}
	// A mistyped or missing database is refused, not made: init makes it.
	if err := run("license", "create"); exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "no server database") {
		t.Fatalf("license create without a database: %v", err)
	}
	if err := run("init"); err != nil || !strings.Contains(out.String(), "created the server database") {
		t.Fatalf("init: %v, %q", err, out.String())
	}
	if err := run("license", "create", "--label", "x", "--expires", "1d"); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out.String())
	db, err := store.OpenServer(context.Background(), filepath.Join(home, "data", store.DefaultServerFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.LicenseByKey(context.Background(), key); err != nil {
		t.Fatalf("license not in the default server database: %v", err)
	}
	if err := run("license", "extend", "1"); err == nil {
		t.Error("extend without --expires succeeded")
	}
	other := filepath.Join(t.TempDir(), "other.db")
	if err := run("init", "--db", other); err != nil {
		t.Fatal(err)
	}
	if err := run("restrict", "files", "--for", "1h", "--db", other); err != nil {
		t.Fatal(err)
	}
	if until, _ := db.Restriction(context.Background()); !until.IsZero() {
		t.Error("--db was ignored")
	}
	if err := run("verdict", "set", eicarSHA256Hex, "clean", "--name", "fp"); err != nil {
		t.Fatal(err)
	}
	if err := run("license", "list", "--json"); err != nil || !strings.Contains(out.String(), `"id":1`) {
		t.Fatalf("list --json: %v %q", err, out)
	}
	if err := run("license", "seats", "1", "4"); err != nil || out.String() != "license 1 has 4 seats\n" {
		t.Fatalf("seats: %v %q", err, out)
	}
	if err := run("license", "list"); err != nil || !strings.Contains(out.String(), "SEATS") || !strings.Contains(out.String(), "  4  ") {
		t.Fatalf("list: %v %q", err, out)
	}
	for _, bad := range [][]string{{"license", "seats", "1", "0"}, {"license", "create", "--seats", "0"}} {
		if err := run(bad...); exitcode.Of(err) != exitcode.Usage {
			t.Errorf("%v: %v, want a usage error", bad, err)
		}
	}
	if err := run("license", "revoke", strconv.Itoa(1)); err != nil {
		t.Fatal(err)
	}
}
