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

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://a:b@host/x@y":    "https://REDACTED@host/x@y",
		"https://host/x@y":        "https://host/x@y",
		"user:pw@host":            "REDACTED@host",
		"https://a@b@host:1?q=@":  "https://REDACTED@host:1?q=@",
		"https://ksn.example.org": "https://ksn.example.org",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
