package urlcanon

import (
	"errors"
	"strings"
	"testing"
)

// docExamples are the canonicalisation tests published in the Safe Browsing
// v4 "URLs and Hashing" documentation, verbatim and in the published order.
var docExamples = []struct{ in, want string }{
	{"http://host/%25%32%35", "http://host/%25"},
	{"http://host/%25%32%35%25%32%35", "http://host/%25%25"},
	{"http://host/%2525252525252525", "http://host/%25"},
	{"http://host/asdf%25%32%35asd", "http://host/asdf%25asd"},
	{"http://host/%%%25%32%35asd%%", "http://host/%25%25%25asd%25%25"},
	{"http://www.google.com/", "http://www.google.com/"},
	{"http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62%61%79%2E%63%6F%6D/", "http://168.188.99.26/.secure/www.ebay.com/"},
	{"http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/", "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/"},
	{"http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%252B", "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+"},
	{"http://3279880203/blah", "http://195.127.0.11/blah"},
	{"http://www.google.com/blah/..", "http://www.google.com/"},
	{"www.google.com/", "http://www.google.com/"},
	{"www.google.com", "http://www.google.com/"},
	{"http://www.evil.com/blah#frag", "http://www.evil.com/blah"},
	{"http://www.GOOgle.com/", "http://www.google.com/"},
	{"http://www.google.com.../", "http://www.google.com/"},
	{"http://www.google.com/foo\tbar\rbaz\n2", "http://www.google.com/foobarbaz2"},
	{"http://www.google.com/q?", "http://www.google.com/q?"},
	{"http://www.google.com/q?r?", "http://www.google.com/q?r?"},
	{"http://www.google.com/q?r?s", "http://www.google.com/q?r?s"},
	{"http://evil.com/foo#bar#baz", "http://evil.com/foo"},
	{"http://evil.com/foo;", "http://evil.com/foo;"},
	{"http://evil.com/foo?bar;", "http://evil.com/foo?bar;"},
	{"http://\x01\x80.com/", "http://%01%80.com/"},
	{"http://notrailingslash.com", "http://notrailingslash.com/"},
	{"http://www.gotaport.com:1234/", "http://www.gotaport.com/"},
	{"  http://www.google.com/  ", "http://www.google.com/"},
	{"http:// leadingspace.com/", "http://%20leadingspace.com/"},
	{"http://%20leadingspace.com/", "http://%20leadingspace.com/"},
	{"%20leadingspace.com/", "http://%20leadingspace.com/"},
	{"https://www.securesite.com/", "https://www.securesite.com/"},
	{"http://host.com/ab%23cd", "http://host.com/ab%23cd"},
	{"http://host.com//twoslashes?more//slashes", "http://host.com/twoslashes?more//slashes"},
}

func TestCanonicalizeDocumentationExamples(t *testing.T) {
	if len(docExamples) != 33 {
		t.Fatalf("the documentation publishes 33 examples, the table has %d", len(docExamples))
	}
	for _, tc := range docExamples {
		c, err := Canonicalize(tc.in)
		if err != nil {
			t.Errorf("Canonicalize(%q): %v", tc.in, err)
			continue
		}
		if c.URL != tc.want {
			t.Errorf("Canonicalize(%q) = %q, want %q", tc.in, c.URL, tc.want)
		}
	}
}

func TestCanonicalizeMore(t *testing.T) {
	tests := []struct{ name, in, want string }{
		// IPv4 in every form inet_aton accepts.
		{"ipv4 hex", "http://0xc37f000b/", "http://195.127.0.11/"},
		{"ipv4 octal", "http://0303.0177.0.013/", "http://195.127.0.11/"},
		{"ipv4 mixed", "http://0xc3.0177.11/", "http://195.127.0.11/"},
		{"ipv4 two parts", "http://127.1/", "http://127.0.0.1/"},
		{"ipv4 three parts", "http://195.127.11/", "http://195.127.0.11/"},
		{"ipv4 upper hex prefix", "http://0XC0.0XA8.0.1/", "http://192.168.0.1/"},
		{"ipv4 trailing dot", "http://1.2.3.4./", "http://1.2.3.4/"},
		{"ipv4 leading zeros decimal", "http://1.2.3.004/", "http://1.2.3.4/"},
		{"not ipv4: too many parts", "http://1.2.3.4.5/", "http://1.2.3.4.5/"},
		{"not ipv4: part too big", "http://256.1.1.1/", "http://256.1.1.1/"},
		{"not ipv4: last part too big", "http://1.2.3.256/", "http://1.2.3.256/"},
		{"not ipv4: bad octal", "http://08.1.1.1/", "http://08.1.1.1/"},
		{"not ipv4: overflow", "http://4294967296/", "http://4294967296/"},
		{"ipv4 max", "http://4294967295/", "http://255.255.255.255/"},

		// IPv6 literals.
		{"ipv6 loopback", "http://[::1]/", "http://[::1]/"},
		{"ipv6 upper case", "http://[2001:DB8::1]/", "http://[2001:db8::1]/"},
		{"ipv6 zeros", "http://[2001:0db8:0000::1]/x", "http://[2001:db8::1]/x"},
		{"ipv6 port", "http://[2001:db8::1]:8080/", "http://[2001:db8::1]/"},
		{"ipv6 mapped ipv4", "http://[::ffff:1.2.3.4]/", "http://1.2.3.4/"},
		{"ipv6 nat64", "http://[64:ff9b::1.2.3.4]/", "http://1.2.3.4/"},

		// IDN.
		{"idn", "http://bücher.example/", "http://xn--bcher-kva.example/"},
		{"idn upper case", "http://BÜCHER.example/", "http://xn--bcher-kva.example/"},
		{"idn escaped", "http://b%C3%BCcher.example/", "http://xn--bcher-kva.example/"},
		{"idn ideographic full stop", "http://bücher\u3002example/", "http://xn--bcher-kva.example/"},
		{"idn full-width ipv4", "http://１２７.0.0.1/", "http://127.0.0.1/"},
		{"punycode kept", "http://XN--BCHER-KVA.example/", "http://xn--bcher-kva.example/"},
		{"idn with ascii labels", "http://www.例え.jp/", "http://www.xn--r8jz45g.jp/"},

		// Userinfo and ports are dropped.
		{"userinfo", "http://user:pass@host/", "http://host/"},
		{"userinfo with @", "http://a@b@host.com/x", "http://host.com/x"},
		{"escaped userinfo", "http://user%3Apass%40host.com/", "http://host.com/"},
		{"port 80", "http://host.com:80/", "http://host.com/"},
		{"empty port", "http://host.com:/", "http://host.com/"},
		{"port with leading zeros", "http://host.com:0080/", "http://host.com/"},

		// Scheme.
		{"scheme upper case", "HTTPS://Host.com/", "https://host.com/"},
		{"other scheme", "ftp://files.example/a", "ftp://files.example/a"},
		{"host and port without scheme", "host.com:8080/a", "http://host.com/a"},
		{"localhost and port", "localhost:8080", "http://localhost/"},
		{"host and empty port", "host.com:/a", "http://host.com/a"},
		{"scheme-relative", "//host.com/x", "http://host.com/x"},
		{"http with one slash", "http:/host.com/x", "http://host.com/x"},
		{"http without slashes", "https:host.com", "https://host.com/"},
		{"http with three slashes", "http:///host.com/x", "http://host.com/x"},
		{"not a scheme: digit first", "1http://x/y", "http://1http/x/y"},
		{"escaped scheme separator", "http%3A%2F%2Fhost.com%2Fa", "http://host.com/a"},
		{"collapsed dots inside", "http://a..b...c/", "http://a.b.c/"},
		{"ipv4 0x alone", "http://0x.0x.0x.0x/", "http://0.0.0.0/"},
		{"soft hyphen label", "http://\u00ad.com/", "http://com/"},
		{"mixed utf-8 and invalid", "http://ü\x80.com/", "http://%C3%BC%80.com/"},

		// Path.
		{"dot segments", "http://h.com/a/./b/../c", "http://h.com/a/c"},
		{"trailing dot", "http://h.com/a/.", "http://h.com/a/"},
		{"dotdot above root", "http://h.com/../../a", "http://h.com/a"},
		{"escaped dots", "http://h.com/a/%2E%2E/b", "http://h.com/b"},
		{"dotted names kept", "http://h.com/.a/..b/...", "http://h.com/.a/..b/..."},
		{"many slashes", "http://h.com///a////b//", "http://h.com/a/b/"},
		{"query not canonicalised", "http://h.com/a/../b?x=/./..//y", "http://h.com/b?x=/./..//y"},
		{"query without path", "http://h.com?x", "http://h.com/?x"},
		{"escaped question mark", "http://h.com/a%3Fb", "http://h.com/a?b"},
		{"unicode path", "http://h.com/ü", "http://h.com/%C3%BC"},
		{"escaped newline kept", "http://h.com/a%0Ab", "http://h.com/a%0Ab"},
		{"lower-case escape", "http://h.com/%7e", "http://h.com/~"},
		{"fragment after query", "http://h.com/a?b#c", "http://h.com/a?b"},
		{"escaped hash in query", "http://h.com/a?b%23c", "http://h.com/a?b%23c"},

		// Whitespace and control bytes around the URL.
		{"control bytes trimmed", "\x0c\x0bhttp://h.com/\x00 ", "http://h.com/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Canonicalize(tc.in)
			if err != nil {
				t.Fatalf("Canonicalize(%q): %v", tc.in, err)
			}
			if c.URL != tc.want {
				t.Errorf("Canonicalize(%q) = %q, want %q", tc.in, c.URL, tc.want)
			}
		})
	}
}

func TestCanonicalizeParts(t *testing.T) {
	c, err := Canonicalize("  HTTP://Jane:s3cret@WWW.Example.COM:8443/a//b/../c%20d?q=1&r=%2F#top ")
	if err != nil {
		t.Fatal(err)
	}
	want := Canonical{
		URL:         "http://www.example.com/a/c%20d?q=1&r=/",
		Scheme:      "http",
		Host:        "www.example.com",
		Port:        "8443",
		Path:        "/a/c%20d",
		Query:       "q=1&r=/",
		HasQuery:    true,
		HadUserinfo: true,
		HadFragment: true,
	}
	if c != want {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	if c.String() != want.URL {
		t.Errorf("String() = %q", c.String())
	}

	c, err = Canonicalize("example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !c.SchemeAssumed || c.HadUserinfo || c.HadFragment || c.HasQuery || c.Port != "" {
		t.Errorf("flags for a bare host: %+v", c)
	}
}

// TestCanonicalizeUserinfoNeverKept checks that credentials appear nowhere:
// not in the canonical URL, not in any expression and not in the redacted
// form.
func TestCanonicalizeUserinfoNeverKept(t *testing.T) {
	for _, in := range []string{
		"http://user:pass@host/",
		"http://user:pass@host.example.com/user/pass?x",
		"//user:pass@host.com",
		"http://user%3Apass@host.com/",
	} {
		c, err := Canonicalize(in)
		if err != nil {
			t.Fatalf("Canonicalize(%q): %v", in, err)
		}
		if !c.HadUserinfo {
			t.Errorf("Canonicalize(%q): HadUserinfo is false", in)
		}
		check := func(what, s string) {
			if strings.Contains(s, "pass@") || strings.Contains(s, "user:") {
				t.Errorf("Canonicalize(%q): %s %q has the userinfo", in, what, s)
			}
		}
		check("URL", c.URL)
		check("host", c.Host)
		for _, e := range c.Expressions() {
			check("expression", e)
		}
		check("redacted form", Redact(c))
	}
}

func TestCanonicalizeErrors(t *testing.T) {
	tests := []struct {
		name, in string
		kind     error
		detail   string // a piece of the message
	}{
		{"empty", "", ErrEmpty, ""},
		{"only spaces", "   ", ErrEmpty, ""},
		{"only tabs and newlines", "\t\r\n", ErrEmpty, ""},
		{"no host", "http://", ErrHost, "no host"},
		{"no host before query", "https://?q=1", ErrHost, "no host"},
		{"no host in a file URL", "file:///etc/passwd", ErrHost, "no host"},
		{"no host after //", "///x", ErrHost, "no host"},
		{"mailto", "mailto:jane@example.com", ErrScheme, `"mailto:" has no "//"`},
		{"javascript", "javascript:alert(1)", ErrScheme, `"javascript:"`},
		{"userinfo without scheme", "user:pass@host.com", ErrScheme, `"user:"`},
		{"port-like but not a port", "host.com:8o8o/", ErrScheme, `"8o8o" is not a port number`},
		{"empty once mapped", "http://\u00ad/", ErrHost, "empty once"},
		{"only fragment", "#frag", ErrHost, "no host"},
		{"only userinfo", "http://user@/", ErrHost, "no host"},
		{"only dots", "http://.../", ErrHost, "only dots"},
		{"port not a number", "http://host.com:80a/", ErrPort, `"80a" is not a number`},
		{"port too big", "http://host.com:65536/", ErrPort, "larger than 65535"},
		{"port huge", "http://host.com:99999999999999999999999/", ErrPort, "larger than 65535"},
		{"colon in host", "http://a:b:80/", ErrHost, "contains ':'"},
		{"unbracketed ipv6", "http://2001:db8::1/", ErrHost, "brackets"},
		{"unclosed bracket", "http://[::1/", ErrHost, "no ']'"},
		{"junk after bracket", "http://[::1]x/", ErrHost, "after the IPv6 literal"},
		{"bad ipv6", "http://[1:2:3]/", ErrHost, "not a valid IPv6 address"},
		{"ipv4 in brackets", "http://[1.2.3.4]/", ErrHost, "not a valid IPv6 address"},
		{"ipv6 zone", "http://[fe80::1%25eth0]/", ErrHost, "zone"},
		{"bracket in host", "http://a]b.com/", ErrHost, "'[' or ']'"},
		{"nul in host", "http://evil.com%00.good.com/", ErrHost, "NUL"},
		{"backslash in authority", "http://evil.com\\@good.com/", ErrHost, "'\\'"},
		{"bad idn", "http://ü-.example/", ErrHost, "not a valid internationalised domain name"},
		{"idn with underscore", "http://x_ü.example/", ErrHost, "not a valid internationalised domain name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Canonicalize(tc.in)
			if err == nil {
				t.Fatalf("Canonicalize(%q) = %q, want an error", tc.in, c.URL)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("Canonicalize(%q) error %q is not %v", tc.in, err, tc.kind)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("Canonicalize(%q) error %T is not an *Error", tc.in, err)
			}
			if !strings.Contains(err.Error(), tc.detail) {
				t.Errorf("Canonicalize(%q) error %q does not say %q", tc.in, err, tc.detail)
			}
			if c != (Canonical{}) {
				t.Errorf("Canonicalize(%q) returned %+v with its error", tc.in, c)
			}
		})
	}
}

// TestErrorsDoNotQuoteUserinfo: an error is shown to the user and may be
// logged, so it must not repeat a password.
func TestErrorsDoNotQuoteUserinfo(t *testing.T) {
	for _, in := range []string{
		"http://user:hunter2@host.com:bad/",
		"http://user:hunter2@[::1/",
		"http://user:hunter2@a:b:c/",
	} {
		_, err := Canonicalize(in)
		if err == nil {
			t.Fatalf("Canonicalize(%q) gave no error", in)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Canonicalize(%q) error %q quotes the password", in, err)
		}
	}
}

func TestErrorQuoteIsShortened(t *testing.T) {
	_, err := Canonicalize("http://" + strings.Repeat("a", 1000) + ":x/")
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("error for a long port is %d bytes: %v", len(err.Error()), err)
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"%41", "A"},
		{"%4", "%4"},
		{"%", "%"},
		{"%%41", "%A"},
		{"%2541", "A"},
		{"%252541", "A"},
		{"%%32%35", "%"},
		{"%zz%4a", "%zzJ"},
		{"%25%", "%%"},
		// Only the last "%25" meets hex digits once decoded ("%41"); the
		// others become literal '%'s that "%%" cannot decode further.
		{strings.Repeat("%25", 1000) + "41", strings.Repeat("%", 999) + "A"},
	}
	for _, tc := range tests {
		if got := unescape(tc.in); got != tc.want {
			t.Errorf("unescape(%.40q) = %.40q, want %.40q", tc.in, got, tc.want)
		}
	}
}

// TestUnescapeMatchesRepeatedPasses checks the one-pass unescape against the
// documentation's literal wording: decode, and repeat until nothing changes.
func TestUnescapeMatchesRepeatedPasses(t *testing.T) {
	inputs := []string{"%2525%32%35", "%%%25%32%35asd%%", "%2%35%35", "%%323%3241", "a%2%3541%"}
	for _, d := range docExamples {
		inputs = append(inputs, d.in)
	}
	for _, in := range inputs {
		if got, want := unescape(in), unescapeByPasses(in); got != want {
			t.Errorf("unescape(%q) = %q, repeated passes give %q", in, got, want)
		}
	}
}

// unescapeByPasses is the slow, literal reading of "repeatedly unescape".
func unescapeByPasses(s string) string {
	for {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] == '%' && i+2 < len(s) {
				hi, ok1 := fromHex(s[i+1])
				lo, ok2 := fromHex(s[i+2])
				if ok1 && ok2 {
					b.WriteByte(hi<<4 | lo)
					i += 2
					continue
				}
			}
			b.WriteByte(s[i])
		}
		if b.String() == s {
			return s
		}
		s = b.String()
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{" ", "%20"},
		{"\x00\x1f\x7f\xff", "%00%1F%7F%FF"},
		{"#%", "%23%25"},
		{"?@;~!$&'()*+,=:[]", "?@;~!$&'()*+,=:[]"},
	}
	for _, tc := range tests {
		if got := escape(tc.in); got != tc.want {
			t.Errorf("escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func BenchmarkCanonicalize(b *testing.B) {
	inputs := []string{
		"http://www.google.com/",
		"http://a.b.c/1/2.html?param=1",
		"http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62%61%79%2E%63%6F%6D/",
		"https://user:pass@BÜCHER.example:8443/a/./b/../c//d?x=1#frag",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Canonicalize(inputs[i%len(inputs)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	c, err := Canonicalize("http://a.b.c.d.e.f.g/1/2/3/4/5.html?param=1")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		c.Lookup()
	}
}
