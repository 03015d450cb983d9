package urlcanon

import (
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// canonicalHost canonicalises an unescaped host (userinfo and port already
// removed) and returns it unescaped; the caller escapes it.
func canonicalHost(h string) (string, error) {
	if h == "" {
		return "", errorf(ErrHost, "the URL has no host")
	}
	if h[0] == '[' {
		return canonicalIPv6(h)
	}
	if err := checkHostBytes(h); err != nil {
		return "", err
	}
	h = normaliseDots(h)
	if h == "" {
		return "", errorf(ErrHost, "the host is only dots")
	}
	h, err := toASCII(h)
	if err != nil {
		return "", err
	}
	// IDNA can map characters to '.' (U+3002 IDEOGRAPHIC FULL STOP) or to
	// nothing (U+00AD SOFT HYPHEN), so the dot rules are applied again.
	h = normaliseDots(h)
	if h == "" {
		return "", errorf(ErrHost, "the host is empty once its international characters are mapped")
	}
	if err := checkHostBytes(h); err != nil {
		return "", err
	}
	h = asciiLower(h)
	if ip, ok := parseIPv4(h); ok {
		return ip, nil
	}
	return h, nil
}

// checkHostBytes rejects the few bytes that make the host itself ambiguous.
// Safe Browsing keeps other odd bytes (its example "http://\x01\x80.com/" is
// canonical as "http://%01%80.com/"), so this list is deliberately short:
//
//   - ':' outside brackets: an unbracketed IPv6 address or a second port,
//     either way there is no single host to check;
//   - '[' or ']' anywhere but around a whole IPv6 literal;
//   - NUL, which truncates the name in C resolvers ("evil.com\0.good.com").
func checkHostBytes(h string) error {
	for i := 0; i < len(h); i++ {
		switch h[i] {
		case ':':
			return errorf(ErrHost, "%s contains ':'; an IPv6 address must be written in brackets", quote(h))
		case '[', ']':
			return errorf(ErrHost, "%s contains '[' or ']' outside an IPv6 literal", quote(h))
		case 0:
			return errorf(ErrHost, "%s contains a NUL byte", quote(h))
		}
	}
	return nil
}

// normaliseDots removes leading and trailing dots and collapses runs of dots.
func normaliseDots(h string) string {
	h = strings.Trim(h, ".")
	if !strings.Contains(h, "..") {
		return h
	}
	var b strings.Builder
	b.Grow(len(h))
	for i := 0; i < len(h); i++ {
		if h[i] == '.' && i > 0 && h[i-1] == '.' {
			continue
		}
		b.WriteByte(h[i])
	}
	return b.String()
}

// toASCII converts each label that has non-ASCII characters to Punycode with
// the IDNA Lookup profile.
//
// Lookup rather than Registration: ksn canonicalises links that a browser is
// about to follow, so it must map them the way a resolver does (UTS #46
// mapping: case folding, width folding, U+3002 as a dot), which is what
// Lookup is for. Registration refuses anything not already in its final form
// and would reject real links such as "http://BÜCHER.example/".
//
// Only non-ASCII labels go through IDNA. An ASCII label is kept as Safe
// Browsing keeps it (lower-cased and escaped), even when it breaks the DNS
// rules: a space or '_' in a host is odd but canonical per the documentation
// ("http://%20leadingspace.com/"). A label that is not valid UTF-8 cannot be
// an IDN at all, so its bytes are kept and escaped, as the documentation's
// "http://\x01\x80.com/" example requires.
func toASCII(h string) (string, error) {
	if isASCII(h) {
		return h, nil
	}
	labels := strings.Split(h, ".")
	for i, label := range labels {
		if isASCII(label) || !utf8.ValidString(label) {
			continue
		}
		ascii, err := idna.Lookup.ToASCII(label)
		if err != nil {
			return "", errorf(ErrHost, "label %s is not a valid internationalised domain name (%v)", quote(label), err)
		}
		labels[i] = ascii
	}
	return strings.Join(labels, "."), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// nat64 is the well-known NAT64 prefix 64:ff9b::/96 (RFC 6052).
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// canonicalIPv6 normalises a bracketed IPv6 literal "[...]".
func canonicalIPv6(h string) (string, error) {
	if len(h) < 2 || h[len(h)-1] != ']' {
		return "", errorf(ErrHost, "%s opens an IPv6 literal with '[' but has no ']'", quote(h))
	}
	inner := h[1 : len(h)-1]
	addr, err := netip.ParseAddr(inner)
	if err != nil || !addr.Is6() {
		return "", errorf(ErrHost, "%s is not a valid IPv6 address", quote(h))
	}
	if addr.Zone() != "" {
		// A zone names an interface of the machine that wrote the link;
		// it means nothing elsewhere and cannot be listed.
		return "", errorf(ErrHost, "%s has an IPv6 zone, which only means something on one machine", quote(h))
	}
	if addr.Is4In6() {
		return addr.Unmap().String(), nil
	}
	if nat64.Contains(addr) {
		b := addr.As16()
		return netip.AddrFrom4([4]byte(b[12:16])).String(), nil
	}
	return "[" + addr.String() + "]", nil
}

// parseIPv4 parses h the way inet_aton does — one to four parts, each
// decimal, octal (leading 0) or hex (leading 0x), the last part filling the
// remaining bytes — and returns it in dotted decimal. "3279880203",
// "0xc37f000b", "195.127.11" and "0303.0177.0.013" all give "195.127.0.11".
// As in WHATWG URL parsing, "0x" alone is 0.
func parseIPv4(h string) (string, bool) {
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return "", false
	}
	var nums [4]uint64
	for i, p := range parts {
		n, ok := parseIPv4Part(p)
		if !ok {
			return "", false
		}
		nums[i] = n
	}
	last := len(parts) - 1
	var ip uint64
	for i := 0; i < last; i++ {
		if nums[i] > 0xff {
			return "", false
		}
		ip |= nums[i] << (24 - 8*i)
	}
	// The last part fills the 4-last bytes that are left.
	if nums[last] >= 1<<(8*(4-last)) {
		return "", false
	}
	ip |= nums[last]
	return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}).String(), true
}

// parseIPv4Part parses one part of an inet_aton address. Values above 2^32
// are refused early so that a long digit string cannot overflow.
func parseIPv4Part(p string) (uint64, bool) {
	if p == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		base, p = 16, p[2:]
	case len(p) >= 2 && p[0] == '0':
		base, p = 8, p[1:]
	}
	var n uint64
	for i := 0; i < len(p); i++ {
		d, ok := fromHex(p[i])
		if !ok || uint64(d) >= base {
			return 0, false
		}
		n = n*base + uint64(d)
		if n > 0xffffffff {
			return 0, false
		}
	}
	return n, true
}

// isIPHost reports whether a canonical host is an IP address: a bracketed
// IPv6 literal or dotted decimal IPv4 (as parseIPv4 writes it).
func isIPHost(host string) bool {
	if strings.HasPrefix(host, "[") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Is4()
}

// privateSuffixes end host names that only resolve inside a network.
var privateSuffixes = []string{".local", ".localhost", ".localdomain", ".internal", ".lan", ".home", ".home.arpa", ".intranet", ".corp"}

// Private reports whether the link's host belongs to a private network: an
// IP address that is not public (PublicAddr: loopback, private, link-local,
// carrier-grade NAT, ...), a name of one
// label ("intranet", "localhost"), or a name under a suffix that only
// resolves inside a network (".local", ".internal", ".lan", ".home.arpa",
// ...). Nothing of such a link is sent, neither a lookup prefix nor a
// submission: it would tell the network about the user's own network, and
// no public list knows it anyway.
func (c Canonical) Private() bool {
	h := c.Host
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	if addr, err := netip.ParseAddr(h); err == nil {
		return !PublicAddr(addr) // also carrier-grade NAT (Tailscale), benchmarking, ...
	}
	if !strings.Contains(h, ".") {
		return true
	}
	for _, s := range privateSuffixes {
		if strings.HasSuffix(h, s) || h == s[1:] {
			return true
		}
	}
	return false
}
