package urlcanon

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Canonical is a URL in Safe Browsing canonical form, split into the parts
// that the expressions and the --explain display need.
//
// Host, Path and Query are in their final, escaped form: every byte <= 0x20,
// >= 0x7f, '#' and '%' is written as %XX with upper-case hex. URL is exactly
// Scheme + "://" + Host + Path, followed by "?" + Query when HasQuery.
//
// Credentials are never kept: HadUserinfo only records that the input had
// them, so that a Canonical can be logged or displayed without leaking them.
type Canonical struct {
	// URL is the canonical URL, e.g. "http://www.google.com/q?r?s".
	URL string
	// Scheme is lower-cased; "http" when the input had none (see SchemeAssumed).
	Scheme string
	// Host is the canonical host: lower-case ASCII (IDNs in Punycode), an
	// IPv4 address in dotted decimal, or a bracketed IPv6 address.
	Host string
	// Port is the port the input named, in decimal without leading zeros, or
	// "" if it named none. It is shown by --explain but is not part of URL or
	// of any expression: Safe Browsing discards it.
	Port string
	// Path starts with '/', has "." and ".." resolved and no empty segments
	// except a trailing slash.
	Path string
	// Query is what followed the first '?', without the '?'; it is escaped
	// but otherwise left as it was (Safe Browsing does not canonicalise it).
	Query string
	// HasQuery records a '?' even when the query is empty, so that
	// "http://www.google.com/q?" keeps its '?' as the documentation requires.
	HasQuery bool
	// SchemeAssumed is true when the input had no scheme (or was a
	// scheme-relative "//host/...") and "http" was supplied.
	SchemeAssumed bool
	// HadUserinfo is true when the input had "user[:password]@" before the
	// host; the userinfo itself is dropped.
	HadUserinfo bool
	// HadFragment is true when the input had a '#fragment'; it is dropped.
	HadFragment bool
}

// String returns the canonical URL.
func (c Canonical) String() string { return c.URL }

// Sentinel kinds of canonicalisation failure, for errors.Is. Every error that
// Canonicalize returns is an *Error wrapping one of them.
var (
	// ErrEmpty: nothing is left of the input once tabs, CR, LF and
	// surrounding spaces are removed.
	ErrEmpty = errors.New("empty URL")
	// ErrHost: the host is missing or cannot be canonicalised (forbidden
	// characters, a malformed IPv6 literal, an invalid internationalised name).
	ErrHost = errors.New("invalid host")
	// ErrPort: the port is not a decimal number from 0 to 65535.
	ErrPort = errors.New("invalid port")
	// ErrScheme: the URL has a scheme but no "//" authority ("mailto:",
	// "javascript:"), so it has no host whose reputation could be checked.
	ErrScheme = errors.New("not a URL with a host")
)

// Error says why a URL could not be canonicalised. Kind is ErrEmpty,
// ErrScheme, ErrHost or ErrPort; Detail names the offending part. Detail never quotes the
// userinfo, so an error can be shown or logged without leaking credentials.
type Error struct {
	Kind   error
	Detail string
}

// Error formats the error as one sentence, e.g.
// `urlcanon: invalid port: "80a" is not a number`.
func (e *Error) Error() string {
	if e.Detail == "" {
		return "urlcanon: " + e.Kind.Error()
	}
	return "urlcanon: " + e.Kind.Error() + ": " + e.Detail
}

// Unwrap returns Kind, so that errors.Is(err, ErrHost) works.
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// quoteLimit keeps error messages readable when the offending part is huge.
const quoteLimit = 64

// quote renders part for an error message, shortened if it is long.
func quote(part string) string {
	if len(part) > quoteLimit {
		return fmt.Sprintf("%q…", part[:quoteLimit])
	}
	return fmt.Sprintf("%q", part)
}

// Canonicalize returns the Safe Browsing canonical form of raw.
//
// The steps, in the order the documentation gives them:
//
//  1. Remove every tab, CR and LF (not their escapes such as %0a), then
//     trim leading and trailing spaces and other C0 control bytes.
//  2. Drop the fragment: everything from the first '#'. This happens before
//     unescaping, so an escaped "%23" stays part of the URL.
//  3. Percent-unescape repeatedly until no %XX sequence is left. A '%' not
//     followed by two hex digits stays a literal '%'.
//  4. Split the scheme, the authority (up to the first '/' or '?'), the
//     path (up to the first '?') and the query (the rest, further '?'
//     included). Because this happens after unescaping, an escaped '/',
//     '?', ':' or '@' acts as one, as in Safe Browsing. The scheme is the
//     one before "://"; a missing one means http, and so does a leading
//     "//". For http and https any number of slashes after the ':' counts
//     as "//", as in browsers. "name:digits" is a host and a port
//     ("localhost:8080"), and any other "scheme:" without "//" ("mailto:",
//     "javascript:") is ErrScheme, since it has no host to check.
//  5. Drop userinfo (up to the last '@' of the authority) and the port.
//  6. Canonicalise the host (see below) and the path: resolve "." and ".."
//     segments, collapse runs of '/', and use "/" for an empty path. The
//     query is left alone.
//  7. Percent-escape, in host, path and query, every byte <= 0x20, >= 0x7f,
//     '#' and '%' as %XX with upper-case hex.
//
// The host: strip leading and trailing dots, collapse runs of dots, convert
// each label with non-ASCII characters to Punycode with the IDNA Lookup
// profile (ASCII labels and labels that are not UTF-8 are kept as bytes and
// escaped, as Safe Browsing keeps them), lower-case it, then rewrite it as dotted decimal if it parses as an IPv4 address in any
// form inet_aton accepts (decimal, octal, hex, one to four parts). A bracketed
// IPv6 literal is normalised by net/netip (lower-case, zeros compressed) and
// kept in brackets; an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::/96)
// address becomes the IPv4 address it carries, as Google's later "URLs and
// Hashing" reference asks, so that a server named either way gets the same
// expressions.
//
// Malformed input gives an *Error (see ErrEmpty, ErrScheme, ErrHost,
// ErrPort), never a panic. ErrHost covers a missing or all-dots host, ':'
// outside brackets, a stray '[' or ']', a NUL byte, a '\' anywhere in the
// authority, a malformed or zoned IPv6 literal, and a label IDNA rejects.
func Canonicalize(raw string) (Canonical, error) {
	s := trimControl(removeTabCRLF(raw))
	if s == "" {
		return Canonical{}, &Error{Kind: ErrEmpty}
	}
	var c Canonical
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
		c.HadFragment = true
	}
	s = unescape(s)

	scheme, rest, assumed, err := splitScheme(s)
	if err != nil {
		return Canonical{}, err
	}
	c.Scheme, c.SchemeAssumed = scheme, assumed

	authority := rest
	pathAndQuery := ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, pathAndQuery = rest[:i], rest[i:]
	}
	if strings.IndexByte(authority, '\\') >= 0 {
		// Browsers read '\' in an http(s) authority as '/', so
		// "http://evil.com\@good.com/" goes to evil.com while a literal
		// reading finds good.com. Refusing is the only answer that
		// cannot check the wrong host.
		return Canonical{}, errorf(ErrHost, "the authority contains '\\', which browsers read as '/'; the host is ambiguous")
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
		c.HadUserinfo = true
	}
	hostPart, port, err := splitPort(authority)
	if err != nil {
		return Canonical{}, err
	}
	c.Port = port

	host, err := canonicalHost(hostPart)
	if err != nil {
		return Canonical{}, err
	}
	c.Host = escape(host)

	path, query := pathAndQuery, ""
	if i := strings.IndexByte(pathAndQuery, '?'); i >= 0 {
		path, query = pathAndQuery[:i], pathAndQuery[i+1:]
		c.HasQuery = true
	}
	c.Path = escape(canonicalPath(path))
	c.Query = escape(query)

	c.URL = c.Scheme + "://" + c.Host + c.Path
	if c.HasQuery {
		c.URL += "?" + c.Query
	}
	return c, nil
}

// removeTabCRLF removes tab, CR and LF anywhere in s, as the first step of
// canonicalisation requires: browsers ignore them, so an attacker can use
// them to split a listed URL.
func removeTabCRLF(s string) string {
	if !strings.ContainsAny(s, "\t\r\n") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\t', '\r', '\n':
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// trimControl trims leading and trailing spaces and C0 control bytes. The
// documentation's example only shows spaces; the other control bytes are
// trimmed too because browsers do (WHATWG URL), and a link pasted from a
// document often carries a form feed or a vertical tab.
func trimControl(s string) string {
	start, end := 0, len(s)
	for start < end && s[start] <= ' ' {
		start++
	}
	for end > start && s[end-1] <= ' ' {
		end--
	}
	return s[start:end]
}

// splitScheme finds the scheme of an unescaped URL and returns it
// lower-cased with the text after it, or assumed=true with the whole input
// when there is none.
//
//   - "scheme://rest" is the usual form.
//   - "//rest" (a scheme-relative link, as in HTML) is taken as http.
//   - for http and https, any number of slashes after the ':' (none, one,
//     three) is read as browsers read it, as "//": "http:/host/" and
//     "http:///host/" are "http://host/".
//   - "name:digits" (or "name:" then '/', '?' or the end) is a host and a
//     port, such as "www.gotaport.com:1234/" or "localhost:8080".
//   - any other "scheme:" ("mailto:", "javascript:", "data:") is an error:
//     such URLs have no host to check, and reading "mailto:jane@example.com"
//     as a host would check example.com instead.
//   - anything else has no scheme, and http is assumed.
func splitScheme(s string) (scheme, rest string, assumed bool, err error) {
	if strings.HasPrefix(s, "//") {
		return "http", s[2:], true, nil
	}
	colon := schemeEnd(s)
	if colon < 0 {
		return "http", s, true, nil
	}
	scheme, rest = asciiLower(s[:colon]), s[colon+1:]
	if scheme == "http" || scheme == "https" {
		return scheme, strings.TrimLeft(rest, "/"), false, nil
	}
	if strings.HasPrefix(rest, "//") {
		return scheme, rest[2:], false, nil
	}
	port := rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		port = rest[:i]
	}
	if strings.Trim(port, "0123456789") == "" {
		return "http", s, true, nil
	}
	return "", "", false, errorf(ErrScheme, "%s has no \"//\" after it, so there is no host to check (or, if it is a host, %s is not a port number)", quote(s[:colon+1]), quote(port))
}

// schemeEnd returns the index of the ':' ending a leading RFC 3986 scheme
// (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), or -1.
func schemeEnd(s string) int {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z':
		case i > 0 && ('0' <= ch && ch <= '9' || ch == '+' || ch == '-' || ch == '.'):
		case i > 0 && ch == ':':
			return i
		default:
			return -1
		}
	}
	return -1
}

// splitPort splits an authority (userinfo already removed) into host and
// port, validating the port. A bracketed IPv6 literal keeps its brackets.
func splitPort(authority string) (host, port string, err error) {
	var rawPort string
	hasPort := false
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return "", "", errorf(ErrHost, "%s opens an IPv6 literal with '[' but has no ']'", quote(authority))
		}
		host = authority[:end+1]
		after := authority[end+1:]
		if after != "" {
			if after[0] != ':' {
				return "", "", errorf(ErrHost, "unexpected %s after the IPv6 literal %s", quote(after), quote(host))
			}
			rawPort, hasPort = after[1:], true
		}
	} else {
		host = authority
		if i := strings.LastIndexByte(authority, ':'); i >= 0 {
			host, rawPort, hasPort = authority[:i], authority[i+1:], true
		}
	}
	if !hasPort || rawPort == "" {
		// "host:" names no port; browsers accept it and so does Safe
		// Browsing, which drops the port anyway.
		return host, "", nil
	}
	port, err = canonicalPort(rawPort)
	return host, port, err
}

// canonicalPort checks that p is a decimal port number and returns it without
// leading zeros.
func canonicalPort(p string) (string, error) {
	n := 0
	for i := 0; i < len(p); i++ {
		ch := p[i]
		if ch < '0' || ch > '9' {
			return "", errorf(ErrPort, "%s is not a number", quote(p))
		}
		n = n*10 + int(ch-'0')
		if n > 65535 {
			return "", errorf(ErrPort, "%s is larger than 65535", quote(p))
		}
	}
	return strconv.Itoa(n), nil
}

// canonicalPath resolves "." and ".." segments and collapses runs of '/'. p
// is empty or starts with '/'. A trailing slash is kept, and a trailing "."
// or ".." segment leaves one, so "/blah/.." becomes "/" as the documentation's
// example shows.
func canonicalPath(p string) string {
	if p == "" || p == "/" {
		return "/"
	}
	segments := strings.Split(p[1:], "/")
	kept := segments[:0:0]
	trailingSlash := false
	for i, seg := range segments {
		last := i == len(segments)-1
		switch seg {
		case "", ".":
			trailingSlash = last
		case "..":
			if len(kept) > 0 {
				kept = kept[:len(kept)-1]
			}
			trailingSlash = last
		default:
			kept = append(kept, seg)
			trailingSlash = false
		}
	}
	if len(kept) == 0 {
		return "/"
	}
	out := "/" + strings.Join(kept, "/")
	if trailingSlash {
		out += "/"
	}
	return out
}

// asciiLower lower-cases ASCII letters only. strings.ToLower would replace
// invalid UTF-8 with U+FFFD, and Safe Browsing keeps such bytes (escaped).
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// Removed lists what canonicalisation dropped from the input, by the
// names ksn url --json gives them: "userinfo", "port", "fragment".
func (c Canonical) Removed() []string {
	parts := []string{}
	if c.HadUserinfo {
		parts = append(parts, "userinfo")
	}
	if c.Port != "" {
		parts = append(parts, "port")
	}
	if c.HadFragment {
		parts = append(parts, "fragment")
	}
	return parts
}
