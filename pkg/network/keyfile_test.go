package network

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/exitcode"
)

func TestEnableFromFile(t *testing.T) {
	paths := testPaths(t)
	keyFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(keyFile, []byte("tok-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, source, keyFile, stdin string
		err                          string // "" for none
	}{
		{"unknown", "virustotal", "", "", `no public source is named "virustotal"`},
		{"missing file", "opentip", filepath.Join(t.TempDir(), "none"), "", "--key-file: "},
		{"empty stdin", "opentip", "-", "  \n", "--key-file: - holds no key"},
		{"no key", "opentip", "", "", "opentip needs a key"},
		{"from a file", "opentip", keyFile, "", ""},
		{"from stdin", "malwarebazaar-api", "-", "auth-key\n", ""},
		{"without a key", "hashlookup", "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := EnableFromFile(paths, strings.NewReader(c.stdin), c.source, c.keyFile, "", 0)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || exitcode.Of(err) != exitcode.Usage {
					t.Errorf("err %v, want exit 2 with %q", err, c.err)
				}
				return
			}
			if err != nil || !cfg.Enabled || cfg.Name != c.source || cfg.KeyStored != (c.keyFile != "") {
				t.Errorf("%+v (%v)", cfg, err)
			}
		})
	}
}

func TestActivateLicense(t *testing.T) {
	paths := testPaths(t)
	for _, c := range []struct {
		arg, stdin, want, err string
	}{
		{"ksn_0123456789abcdef", "", "ksn_0123456789abcdef", ""},
		{"-", " ksn_fromstdin\nsecond line\n", "ksn_fromstdin", ""},
		{"-", "ksn_noeol", "ksn_noeol", ""},
		{"not a key", "", "", "that does not look like a license key"},
		{"-", "", "", "that does not look like a license key"},
	} {
		key, err := ActivateLicense(paths, strings.NewReader(c.stdin), c.arg)
		if c.err != "" {
			if err == nil || err.Error() != c.err || exitcode.Of(err) != exitcode.Usage {
				t.Errorf("%q: err %v, want %q", c.arg, err, c.err)
			}
			continue
		}
		if err != nil || key != c.want {
			t.Errorf("%q: %q (%v), want %q", c.arg, key, err, c.want)
		}
		if got, _, _ := LicenseKey(paths, func(string) string { return "" }); got != c.want {
			t.Errorf("stored %q, want %q", got, c.want)
		}
	}
}
