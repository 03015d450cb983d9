package urlcanon

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

func TestExpressions(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		// The three examples of the documentation, in its order.
		{"http://a.b.c/1/2.html?param=1", []string{
			"a.b.c/1/2.html?param=1",
			"a.b.c/1/2.html",
			"a.b.c/",
			"a.b.c/1/",
			"b.c/1/2.html?param=1",
			"b.c/1/2.html",
			"b.c/",
			"b.c/1/",
		}},
		{"http://a.b.c.d.e.f.g/1.html", []string{
			"a.b.c.d.e.f.g/1.html",
			"a.b.c.d.e.f.g/",
			// b.c.d.e.f.g is skipped: only the last five components.
			"c.d.e.f.g/1.html",
			"c.d.e.f.g/",
			"d.e.f.g/1.html",
			"d.e.f.g/",
			"e.f.g/1.html",
			"e.f.g/",
			"f.g/1.html",
			"f.g/",
		}},
		{"http://1.2.3.4/1/", []string{
			"1.2.3.4/1/",
			"1.2.3.4/",
		}},

		// More.
		{"http://google.com/", []string{"google.com/"}},
		{"http://localhost/a", []string{"localhost/a", "localhost/"}},
		{"http://www.google.com/q?", []string{
			"www.google.com/q?", "www.google.com/q", "www.google.com/",
			"google.com/q?", "google.com/q", "google.com/",
		}},
		{"http://h.com/?x=1", []string{"h.com/?x=1", "h.com/"}},
		{"http://b.c.d.e.f.g/", []string{
			"b.c.d.e.f.g/", "c.d.e.f.g/", "d.e.f.g/", "e.f.g/", "f.g/",
		}},
		// The path prefixes stop at four, "/" included.
		{"http://h.com/1/2/3/4/5/6.html?a=b", []string{
			"h.com/1/2/3/4/5/6.html?a=b",
			"h.com/1/2/3/4/5/6.html",
			"h.com/",
			"h.com/1/",
			"h.com/1/2/",
			"h.com/1/2/3/",
		}},
		// A prefix equal to the exact path is not repeated.
		{"http://h.com/1/2/", []string{"h.com/1/2/", "h.com/", "h.com/1/"}},
		{"http://[2001:db8::1]/a/b", []string{"[2001:db8::1]/a/b", "[2001:db8::1]/", "[2001:db8::1]/a/"}},
		{"http://3279880203/blah", []string{"195.127.0.11/blah", "195.127.0.11/"}},
		// Expressions use the escaped host and path.
		{"http:// www.leadingspace.com/a b", []string{
			"%20www.leadingspace.com/a%20b", "%20www.leadingspace.com/", "leadingspace.com/a%20b", "leadingspace.com/",
		}},
		// Userinfo and port are not part of any expression.
		{"http://u:p@www.example.com:8080/x", []string{
			"www.example.com/x", "www.example.com/", "example.com/x", "example.com/",
		}},
	}
	for _, tc := range tests {
		c, err := Canonicalize(tc.in)
		if err != nil {
			t.Fatalf("Canonicalize(%q): %v", tc.in, err)
		}
		if got := c.Expressions(); !slices.Equal(got, tc.want) {
			t.Errorf("Expressions(%q):\n got  %q\n want %q", tc.in, got, tc.want)
		}
	}
}

func TestExpressionsLimit(t *testing.T) {
	c, err := Canonicalize("http://a.b.c.d.e.f.g.h.i/1/2/3/4/5/6/7.html?q=1")
	if err != nil {
		t.Fatal(err)
	}
	exprs := c.Expressions()
	if len(exprs) != MaxExpressions {
		t.Fatalf("got %d expressions, want the maximum %d: %q", len(exprs), MaxExpressions, exprs)
	}
	seen := map[string]bool{}
	for _, e := range exprs {
		if seen[e] {
			t.Errorf("expression %q repeated", e)
		}
		seen[e] = true
	}
}

func TestHostIsIP(t *testing.T) {
	for in, want := range map[string]bool{
		"http://1.2.3.4/":          true,
		"http://3279880203/":       true,
		"http://[::1]/":            true,
		"http://1.2.3.4.5/":        false,
		"http://example.com/":      false,
		"http://256.1.1.1/":        false,
		"http://[::ffff:1.2.3.4]/": true,
	} {
		c, err := Canonicalize(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.HostIsIP(); got != want {
			t.Errorf("HostIsIP(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestHash uses the documentation's FIPS 180-2 vectors.
func TestHash(t *testing.T) {
	tests := []struct{ in, full, prefix string }{
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "ba7816bf"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "248d6a61"},
		{strings.Repeat("a", 1000000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", "cdc76e5c"},
	}
	for _, tc := range tests {
		h := Hash(tc.in)
		if h.String() != tc.full {
			t.Errorf("Hash(%.10q) = %s, want %s", tc.in, h, tc.full)
		}
		if p := h.Prefix(); p.String() != tc.prefix {
			t.Errorf("Hash(%.10q).Prefix() = %s, want %s", tc.in, p, tc.prefix)
		}
		// FullHash is a [32]byte and can be used as one.
		var raw [32]byte = Hash(tc.in)
		if hex.EncodeToString(raw[:]) != tc.full {
			t.Errorf("Hash(%.10q) as [32]byte differs", tc.in)
		}
	}
}

func TestLookup(t *testing.T) {
	c, err := Canonicalize("http://a.b.c/1/2.html?param=1")
	if err != nil {
		t.Fatal(err)
	}
	l := c.Lookup()
	exprs := c.Expressions()
	if len(l.Entries) != len(exprs) {
		t.Fatalf("%d entries for %d expressions", len(l.Entries), len(exprs))
	}
	for i, e := range l.Entries {
		if e.Expression != exprs[i] {
			t.Errorf("entry %d is %q, expression %q", i, e.Expression, exprs[i])
		}
		if e.Full != sha256.Sum256([]byte(e.Expression)) {
			t.Errorf("entry %q: wrong full hash", e.Expression)
		}
		if [4]byte(e.Full[:4]) != e.Prefix {
			t.Errorf("entry %q: prefix %s is not the first 4 bytes of %s", e.Expression, e.Prefix, e.Full)
		}
	}
	// The two expressions with the query stay local; the other six are sent.
	for _, e := range l.Entries {
		if want := strings.Contains(e.Expression, "?"); e.Local != want {
			t.Errorf("entry %q: Local %v, want %v", e.Expression, e.Local, want)
		}
	}
	if len(l.Prefixes) != len(exprs)-2 {
		t.Errorf("%d distinct prefixes for %d expressions, 2 of them local", len(l.Prefixes), len(exprs))
	}
	if got := l.Prefixes[0]; got != Hash("a.b.c/1/2.html").Prefix() {
		t.Errorf("first prefix %s, want that of a.b.c/1/2.html", got)
	}
}

func TestLookupDeduplicatesPrefixesInOrder(t *testing.T) {
	// Real 4-byte collisions are rare, so the hash is faked: "a" and "c"
	// share a prefix and differ in the last byte.
	fake := func(e string) FullHash {
		var h FullHash
		switch e {
		case "a", "c":
			h[0], h[31] = 1, e[0]
		case "b":
			h[0] = 2
		}
		return h
	}
	l := lookupOf([]string{"a", "b", "c", "b"}, fake)
	if len(l.Entries) != 4 {
		t.Fatalf("%d entries, want one per expression", len(l.Entries))
	}
	if l.Entries[0].Full == l.Entries[2].Full {
		t.Errorf("entries a and c should keep their distinct full hashes")
	}
	want := []Prefix{{1, 0, 0, 0}, {2, 0, 0, 0}}
	if !slices.Equal(l.Prefixes, want) {
		t.Errorf("prefixes %v, want %v", l.Prefixes, want)
	}
}

// TestLocalExpressions: an expression with a query, or with a path segment
// a submission would hide, is never sent, not even as a prefix.
func TestLocalExpressions(t *testing.T) {
	c, err := Canonicalize("https://bank.example/reset/Ab3dE5gH9kLm/confirm?code=482913")
	if err != nil {
		t.Fatal(err)
	}
	l := c.Lookup()
	sent := map[Prefix]bool{}
	for _, p := range l.Prefixes {
		sent[p] = true
	}
	var local, shared []string
	for _, e := range l.Entries {
		if e.Local {
			local = append(local, e.Expression)
		} else {
			shared = append(shared, e.Expression)
		}
		if e.Local && sent[e.Prefix] && !slices.ContainsFunc(l.Entries, func(o Entry) bool { return !o.Local && o.Prefix == e.Prefix }) {
			t.Errorf("the prefix of local %q is sent", e.Expression)
		}
	}
	wantShared := []string{"bank.example/", "bank.example/reset/"}
	if !slices.Equal(shared, wantShared) {
		t.Errorf("sent expressions %q, want %q", shared, wantShared)
	}
	if len(local) != 3 || len(l.Prefixes) != 2 {
		t.Errorf("local %q, %d prefixes", local, len(l.Prefixes))
	}
}

func TestPrivateLinksStayLocal(t *testing.T) {
	for raw, private := range map[string]bool{
		"http://192.168.1.20/admin":          true,
		"http://10.0.0.1/":                   true,
		"http://127.0.0.1:8080/x":            true,
		"http://[::1]/x":                     true,
		"http://[fe80::1]/x":                 true,
		"http://169.254.1.1/":                true,
		"http://intranet/hr/payroll":         true,
		"http://localhost/":                  true,
		"http://printer.local/":              true,
		"https://wiki.corp.internal/page":    true,
		"http://nas.home.arpa/":              true,
		"http://8.8.8.8/":                    false,
		"https://example.com/login":          false,
		"http://[2606:4700::1111]/":          false,
		"http://[2001:db8::1]/":              true, // documentation
		"http://100.101.102.103:8080/admin":  true, // carrier-grade NAT (Tailscale)
		"http://198.18.0.7/":                 true, // benchmarking
		"http://[::ffff:10.0.0.1]/":          true,
		"http://router.localdomain/":         true,
		"http://nas.home/":                   true,
		"https://jane-doe-4711.github.io/x/": false,
	} {
		c, err := Canonicalize(raw)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		l := c.Lookup()
		if c.Private() != private {
			t.Errorf("%s: Private() = %v, want %v", raw, c.Private(), private)
		}
		if private && (len(l.Prefixes) != 0 || slices.ContainsFunc(l.Entries, func(e Entry) bool { return !e.Local })) {
			t.Errorf("%s: a private link sends %d prefixes", raw, len(l.Prefixes))
		}
		if !private && len(l.Prefixes) == 0 {
			t.Errorf("%s: a public link sends nothing", raw)
		}
	}
}

func TestListing(t *testing.T) {
	for _, tt := range []struct{ raw, want string }{
		{"http://Evil.Example/dl/x.exe", "evil.example/dl/x.exe"},
		{"https://user:pw@evil.example:443/a/../b?id=7#frag", "evil.example/b?id=7"},
		{"evil.example", "evil.example/"},
		{"http://docs.example/uc?", "docs.example/uc?"},
	} {
		c, err := Canonicalize(tt.raw)
		if err != nil {
			t.Fatalf("%s: %v", tt.raw, err)
		}
		got := c.Listing()
		if got != tt.want {
			t.Errorf("Listing(%s) = %q, want %q", tt.raw, got, tt.want)
		}
		if !slices.Contains(c.Expressions(), got) {
			t.Errorf("Listing(%s) = %q is not among its expressions %q", tt.raw, got, c.Expressions())
		}
	}
}
