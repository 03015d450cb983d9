package urlcanon

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

// FuzzCanonicalize checks the properties every input must have: no panic;
// an error is an *Error; a canonical URL canonicalises to itself; at most 30
// distinct expressions whose hashes are SHA-256; and a redacted form made of
// scheme, host and path only. Its seeds (the documentation's examples, the
// other test tables, and testdata/fuzz/FuzzCanonicalize) run with go test.
func FuzzCanonicalize(f *testing.F) {
	for _, d := range docExamples {
		f.Add(d.in)
	}
	for _, s := range []string{
		"http://a.b.c/1/2.html?param=1",
		"http://a.b.c.d.e.f.g/1.html",
		"http://1.2.3.4/1/",
		"http://bücher.example/",
		"http://[2001:DB8::1]:8080/a",
		"http://[::ffff:1.2.3.4]/",
		"http://user:pass@host/",
		"http://0x7f.1/",
		"http://b%C3%BCcher\u3002example/",
		"%25252541",
		"http://h.com/a/../../b/./c//?q=/../#f",
		"http://example.com/users/jane@example.org/123e4567-e89b-12d3-a456-426614174000",
		"",
		"http://[fe80::1%25eth0]/",
		"http://a:b:c/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := Canonicalize(raw)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Canonicalize(%q) error %T is not an *Error: %v", raw, err, err)
			}
			if c != (Canonical{}) {
				t.Fatalf("Canonicalize(%q) returned %+v with error %v", raw, c, err)
			}
			return
		}
		checkCanonical(t, raw, c)

		again, err := Canonicalize(c.URL)
		if err != nil {
			t.Fatalf("Canonicalize(%q) = %q, which does not canonicalise: %v", raw, c.URL, err)
		}
		if again.URL != c.URL || again.Scheme != c.Scheme || again.Host != c.Host || again.Path != c.Path || again.Query != c.Query || again.HasQuery != c.HasQuery {
			t.Fatalf("not idempotent:\n input %q\n once  %+v\n twice %+v", raw, c, again)
		}

		exprs := c.Expressions()
		if len(exprs) == 0 || len(exprs) > MaxExpressions {
			t.Fatalf("Canonicalize(%q): %d expressions", raw, len(exprs))
		}
		seen := make(map[string]bool, len(exprs))
		for _, e := range exprs {
			if seen[e] {
				t.Fatalf("Canonicalize(%q): expression %q repeated", raw, e)
			}
			seen[e] = true
			checkExpression(t, raw, c, e)
		}
		l := c.Lookup()
		if len(l.Entries) != len(exprs) || len(l.Prefixes) > len(exprs) {
			t.Fatalf("Canonicalize(%q): %d entries, %d prefixes for %d expressions", raw, len(l.Entries), len(l.Prefixes), len(exprs))
		}
		for _, e := range l.Entries {
			sum := sha256.Sum256([]byte(e.Expression))
			if len(e.Full) != 32 || e.Full != sum || e.Prefix != [4]byte(sum[:4]) {
				t.Fatalf("Canonicalize(%q): wrong hashes for %q", raw, e.Expression)
			}
		}

		checkRedacted(t, raw, c)
		checkSecretsNotRedacted(t, raw)
	})
}

// checkCanonical checks the shape of a successful result.
func checkCanonical(t *testing.T, raw string, c Canonical) {
	t.Helper()
	want := c.Scheme + "://" + c.Host + c.Path
	if c.HasQuery {
		want += "?" + c.Query
	}
	if c.URL != want {
		t.Fatalf("Canonicalize(%q): URL %q is not its parts %q", raw, c.URL, want)
	}
	if c.Host == "" || !strings.HasPrefix(c.Path, "/") || strings.Contains(c.Path, "//") || strings.ContainsAny(c.Path, "?") {
		t.Fatalf("Canonicalize(%q): bad host or path in %+v", raw, c)
	}
	if strings.ContainsAny(c.Host, "/?@:\\") && !strings.HasPrefix(c.Host, "[") {
		t.Fatalf("Canonicalize(%q): host %q has a delimiter", raw, c.Host)
	}
	for i := 0; i < len(c.URL); i++ {
		ch := c.URL[i]
		if ch == '%' {
			if i+2 >= len(c.URL) || !isHexDigit(c.URL[i+1]) || !isHexDigit(c.URL[i+2]) {
				t.Fatalf("Canonicalize(%q): URL %q has a '%%' that starts no escape", raw, c.URL)
			}
			continue
		}
		if needsEscape(ch) {
			t.Fatalf("Canonicalize(%q): URL %q has an unescaped byte %#x", raw, c.URL, ch)
		}
	}
}

// checkExpression checks that e is a suffix of the host followed by the
// path with its query, the path, or a directory prefix of the path.
func checkExpression(t *testing.T, raw string, c Canonical, e string) {
	t.Helper()
	slash := strings.IndexByte(e, '/')
	if slash <= 0 {
		t.Fatalf("Canonicalize(%q): expression %q has no host", raw, e)
	}
	host, path := e[:slash], e[slash:]
	if host != c.Host && (c.HostIsIP() || !strings.HasSuffix(c.Host, "."+host) || !strings.Contains(host, ".")) {
		t.Fatalf("Canonicalize(%q): expression %q: %q is not a suffix of host %q", raw, e, host, c.Host)
	}
	switch {
	case path == c.Path, c.HasQuery && path == c.Path+"?"+c.Query:
	case strings.HasSuffix(path, "/") && strings.HasPrefix(c.Path, path):
	default:
		t.Fatalf("Canonicalize(%q): expression %q: %q is not the path %q or a prefix of it", raw, e, path, c.Path)
	}
}

// checkRedacted checks that the redacted form is scheme, host and a path
// with the same number of segments, and nothing else.
func checkRedacted(t *testing.T, raw string, c Canonical) {
	t.Helper()
	r := Redact(c)
	base := c.Scheme + "://" + c.Host + "/"
	if !strings.HasPrefix(r, base) {
		t.Fatalf("Redact(%q) = %q, not under %q", raw, r, base)
	}
	if strings.ContainsAny(r, "?#") {
		t.Fatalf("Redact(%q) = %q has a query or fragment", raw, r)
	}
	if got, want := strings.Count(r[len(base)-1:], "/"), strings.Count(c.Path, "/"); got != want {
		t.Fatalf("Redact(%q) = %q has %d slashes in its path, the canonical path %q has %d", raw, r, got, c.Path, want)
	}
}

// checkSecretsNotRedacted wraps raw in a URL with known userinfo and query
// and checks that neither survives Redact, unless raw itself spells them.
func checkSecretsNotRedacted(t *testing.T, raw string) {
	t.Helper()
	if strings.Contains(strings.ToLower(unescape(raw)), "ksnsecret") {
		return
	}
	u := "http://ksnsecretuser:ksnsecretpass@example.com/" + raw + "?ksnsecretquery"
	c, err := Canonicalize(u)
	if err != nil {
		t.Fatalf("Canonicalize(%q): %v", u, err)
	}
	if r := Redact(c); strings.Contains(strings.ToLower(r), "ksnsecret") {
		t.Fatalf("Redact(%q) = %q keeps the userinfo or query", u, r)
	}
	for _, e := range c.Expressions() {
		if strings.Contains(e, "ksnsecretuser") || strings.Contains(e, "ksnsecretpass") {
			t.Fatalf("Canonicalize(%q): expression %q has the userinfo", u, e)
		}
	}
}
