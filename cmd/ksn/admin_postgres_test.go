//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/store/storetest"
)

// TestAdminPostgres runs every `ksn admin` command, and `ksn feed import
// --db`, against a server database on PostgreSQL, the database named once
// by $KSN_DATABASE_URL as an operator of replicas would.
func TestAdminPostgres(t *testing.T) {
	rs := &replicaSet{t: t, dsn: storetest.PostgresDSN(t), dir: t.TempDir()}
	t.Setenv("KSN_DATABASE_URL", rs.dsn)
	kek := filepath.Join(rs.dir, "kek")
	feed := filepath.Join(rs.dir, "good.txt")
	const digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b800"
	if err := os.WriteFile(feed, []byte(digest+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string // in standard output
	}{
		{[]string{"admin", "keygen", "--out", kek}, ""},
		{[]string{"admin", "license", "create", "--label", "pg"}, "ksn_"},
		{[]string{"admin", "license", "create", "--label", "other", "--expires", "30d"}, "ksn_"},
		{[]string{"admin", "license", "extend", "2", "--expires", "never"}, ""},
		{[]string{"admin", "license", "revoke", "2"}, ""},
		{[]string{"admin", "license", "seats", "1", "5"}, ""},
		{[]string{"admin", "license", "list"}, "denylisted"},
		{[]string{"admin", "verdict", "set", digest, "malicious", "--name", "Test"}, ""},
		{[]string{"admin", "verdict", "unset", digest}, ""},
		{[]string{"feed", "import", "--db", rs.dsn, "--format", "known-good", feed}, ""},
		{[]string{"admin", "restrict", "files", "--for", "10m"}, ""},
		{[]string{"admin", "restrict", "off"}, ""},
		{[]string{"admin", "purge"}, ""},
		{[]string{"admin", "verify", "--kek-file", kek}, ""},
		{[]string{"admin", "stats"}, "known-good"},
	} {
		out := rs.ksn(c.args...)
		if !strings.Contains(out, c.want) {
			t.Errorf("ksn %s: output lacks %q:\n%s", strings.Join(c.args, " "), c.want, out)
		}
	}
}
