package config

import (
	"strings"
	"testing"
)

func TestURLValues(t *testing.T) {
	endpoint, _ := LookupKey("endpoint")
	proxy, _ := LookupKey("proxy")
	cases := []struct {
		key  Key
		in   string
		want string // normalised, when err is ""
		err  string
	}{
		{endpoint, "https://ksn.example.org", "https://ksn.example.org", ""},
		{endpoint, "  https://ksn.example.org/  ", "https://ksn.example.org", ""},
		{endpoint, "https://ksn.example.org/api//", "https://ksn.example.org/api", ""},
		{endpoint, "http://127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{endpoint, "http://[::1]:8080/", "http://[::1]:8080", ""},
		{endpoint, "", "", ""},
		{endpoint, "   ", "", ""},
		{endpoint, "/", "", ""},
		{proxy, "http://proxy.corp:3128", "http://proxy.corp:3128", ""},
		{endpoint, "https://user:secret@ksn.example.org", "", "credentials"},
		{endpoint, "https://token@ksn.example.org", "", "credentials"},
		{proxy, "http://user:secret@proxy:3128", "", "set HTTPS_PROXY instead"},
		{endpoint, "ftp://ksn.example.org", "", "must start with https:// or http://, not ftp://"},
		{endpoint, "file:///etc/passwd", "", "not file://"},
		{endpoint, "https://", "", "has no scheme"},
		{endpoint, "https:///path", "", "has no host"},
		{endpoint, "http://:8080", "", "has no host"},
		{endpoint, "http://127.0.0.1:99999", "", "has port 99999; a port is a number from 1 to 65535"},
		{endpoint, "http://127.0.0.1:0", "", "has port 0"},
		{endpoint, "http://host:", "", "has an empty port"},
		{endpoint, "http://[::1]:7415", "http://[::1]:7415", ""},
		{endpoint, "ksn.example.org", "", "has no scheme (e.g. https://ksn.example.org)"},
		{endpoint, "localhost:8080", "", "has no scheme"},
		{endpoint, "https://ksn.example.org/?key=1", "", "has a query"},
		{endpoint, "https://ksn.example.org?", "", "has a query"},
		{endpoint, "https://ksn.example.org/#top", "", "has a fragment"},
		{endpoint, "https://ksn example.org", "", "is not a URL"},
		{endpoint, "https://ksn.example.org:port", "", "is not a URL"},
	}
	for _, c := range cases {
		v, err := c.key.parse(c.in)
		if c.err == "" {
			if err != nil || v.text != c.want {
				t.Errorf("%s %q = %q, %v; want %q", c.key.Name, c.in, v.text, err, c.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s %q: error %v, want %q", c.key.Name, c.in, err, c.err)
			continue
		}
		if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "token@") {
			t.Errorf("%s %q: the error repeats the credential: %v", c.key.Name, c.in, err)
		}
	}
}

func TestRedactUserinfo(t *testing.T) {
	for in, want := range map[string]string{
		"https://a:b@host/x@y":    "https://REDACTED@host/x@y",
		"https://host/x@y":        "https://host/x@y",
		"user:pw@host":            "REDACTED@host",
		"https://a@b@host:1?q=@":  "https://REDACTED@host:1?q=@",
		"https://ksn.example.org": "https://ksn.example.org",
		"//:000000@":              "//REDACTED@",
		"//u:pw@host/p":           "//REDACTED@host/p",
		"/path@x":                 "/path@x",
	} {
		if got := RedactUserinfo(in); got != want {
			t.Errorf("RedactUserinfo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInsecureEndpoint(t *testing.T) {
	for _, ok := range []string{"", "https://ksn.example.org", "http://127.0.0.1:7415", "http://127.8.9.1", "http://[::1]:80", "http://localhost:8080", "http://ksn.localhost"} {
		if err := InsecureEndpoint(ok); err != nil {
			t.Errorf("InsecureEndpoint(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"http://ksn.example.org", "http://10.0.0.5:7415", "http://[::ffff:8.8.8.8]", "http://localhost.evil.example"} {
		err := InsecureEndpoint(bad)
		if err == nil || !strings.Contains(err.Error(), "insecure_transport true") {
			t.Errorf("InsecureEndpoint(%q) = %v, want a refusal naming the setting", bad, err)
		}
	}
}

// TestInsecureTransportSetting: a plain-http endpoint to another machine
// is refused from the command line, the file and the environment unless
// insecure_transport is set; a bool takes the usual spellings.
func TestInsecureTransportSetting(t *testing.T) {
	p := testPaths(t)
	if err := SetSetting(p, "endpoint", "http://ksn.example.org"); err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Fatalf("set endpoint: %v, want a refusal", err)
	}
	env := func(kv map[string]string) Env { return func(k string) string { return kv[k] } }
	if _, err := LoadSettings(p, env(map[string]string{"KSN_ENDPOINT": "http://ksn.example.org"})); err == nil || !strings.Contains(err.Error(), "env KSN_ENDPOINT") {
		t.Fatalf("KSN_ENDPOINT: %v, want a refusal naming the variable", err)
	}
	s, err := LoadSettings(p, env(map[string]string{"KSN_ENDPOINT": "http://ksn.example.org", "KSN_INSECURE_TRANSPORT": "yes"}))
	if err != nil || !s.Bool("insecure_transport") {
		t.Fatalf("with KSN_INSECURE_TRANSPORT=yes: %v", err)
	}
	if err := SetSetting(p, "insecure_transport", "on"); err != nil {
		t.Fatal(err)
	}
	if err := SetSetting(p, "endpoint", "http://ksn.example.org"); err != nil {
		t.Fatalf("set endpoint once allowed: %v", err)
	}
	if s, err = LoadSettings(p, nil); err != nil || s.String("insecure_transport") != "true" {
		t.Fatalf("reload: %v %v", s, err)
	}
	if err := SetSetting(p, "insecure_transport", "maybe"); err == nil || !strings.Contains(err.Error(), "is not true or false") {
		t.Fatalf("insecure_transport maybe: %v", err)
	}
	if err := UnsetSetting(p, "insecure_transport"); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSettings(p, nil); err == nil || !strings.Contains(err.Error(), "the endpoint comes from file") {
		t.Fatalf("after unsetting insecure_transport: %v, want the http endpoint refused", err)
	}
}

// TestZeroLimitRefused: outbox.max_records 0 would mean no bound while
// `ksn queue` says "at most 0": it is refused wherever it comes from.
func TestZeroLimitRefused(t *testing.T) {
	p := testPaths(t)
	if err := SetSetting(p, "outbox.max_records", "0"); err == nil || !strings.Contains(err.Error(), "must be more than 0") {
		t.Fatalf("set 0: %v", err)
	}
	if _, err := LoadSettings(p, func(k string) string { return map[string]string{"KSN_OUTBOX_MAX_RECORDS": "0"}[k] }); err == nil {
		t.Fatal("KSN_OUTBOX_MAX_RECORDS=0 accepted")
	}
	writeConfig(t, p, "[outbox]\nmax_records = 0\n")
	if _, err := LoadSettings(p, nil); err == nil || !strings.Contains(err.Error(), "must be more than 0") {
		t.Fatalf("file with 0: %v", err)
	}
	if err := SetSetting(p, "outbox.max_records", "-5"); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Fatalf("set -5: %v", err)
	}
}
