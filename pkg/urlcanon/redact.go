package urlcanon

import (
	"regexp"
	"strings"
)

// Placeholders that Redact puts in place of a path segment.
const (
	PlaceholderEmail = "{email}"
	PlaceholderUUID  = "{uuid}"
	PlaceholderHex   = "{hex}"
	PlaceholderNum   = "{num}"
	PlaceholderToken = "{token}"
)

// Thresholds of the redaction rules; see Redact.
const (
	minDigitRun = 6
	minHexRun   = 16
	minTokenRun = 20
	// minShortToken is the shortest whole segment shortToken redacts.
	minShortToken = 8
)

var uuidPattern = regexp.MustCompile(`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`)

// Redact returns the form of c that ksn may submit: Scheme + "://" + Host +
// Path, with every path segment that may identify a person replaced by a
// placeholder. It never contains the userinfo (Canonical does not keep it),
// the port, the query or the fragment, which is where sessions, tokens and
// search terms usually are.
//
// The rules look at each '/'-separated segment of the canonical (escaped)
// path. The first rule that matches anywhere in the segment replaces the
// whole segment, so no part of a matching segment is sent ("invoice-1234567.pdf"
// becomes "{num}"):
//
//  1. {email}: an '@' (or "%40") after the segment's first byte: an
//     address ("jane@example.com"), one under a one-label domain
//     ("jane.doe@corp"); also, by design, "icon@2x.png". A segment that
//     starts with '@' is a public handle ("@jane") and is kept.
//  2. {uuid}: 8-4-4-4-12 hex digits separated by '-', either case.
//  3. {hex}: a run of 16 or more hex digits [0-9A-Fa-f] with at least one
//     letter among them (an all-digit run is a number, rule 4).
//  4. {num}: a run of 6 or more decimal digits.
//  5. {token}: a run of 20 or more bytes of [A-Za-z0-9_+=-] (base64 and
//     base64url; '/' cannot occur inside a segment) with at least one letter
//     and at least one digit. A long slug that includes a number
//     ("how-to-bake-bread-in-2024") matches too: redacting too much is the
//     safe way to be wrong here.
//  6. {token}: a whole segment of 8 or more bytes of [A-Za-z0-9_-] with at
//     least two letters and two digits ("k9XmQ2pL"): short invitation and
//     reset codes.
//
// Path parameters (";jsessionid=...") are cut from every segment first.
//
// A "run" is a maximal sequence of bytes from the set. Segments that match no
// rule, such as "index.html", "2024", "v2" or "blah", are kept, and so are the
// empty segment of a trailing slash and the host.
func Redact(c Canonical) string {
	return c.Scheme + "://" + c.Host + redactPath(c.Path)
}

// redactPath applies Redact's rules to a path that starts with '/'.
func redactPath(path string) string {
	segments := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, seg := range segments {
		segments[i] = redactSegment(seg)
	}
	return "/" + strings.Join(segments, "/")
}

// redactSegment applies the rules of Redact to one path segment.
func redactSegment(seg string) string {
	if i := strings.IndexByte(seg, ';'); i >= 0 {
		seg = seg[:i] // path parameters: ";jsessionid=..."
	}
	switch {
	case seg == "":
		return seg
	case len(seg) > 1 && (strings.Contains(seg[1:], "@") || strings.Contains(strings.ToLower(seg[1:]), "%40")):
		return PlaceholderEmail
	case uuidPattern.MatchString(seg):
		return PlaceholderUUID
	case hasRun(seg, isHexDigit, minHexRun, func(run string) bool { return strings.IndexFunc(run, isLetter) >= 0 }):
		return PlaceholderHex
	case hasRun(seg, isDigit, minDigitRun, nil):
		return PlaceholderNum
	case hasRun(seg, isTokenByte, minTokenRun, func(run string) bool {
		return strings.IndexFunc(run, isLetter) >= 0 && strings.IndexFunc(run, isDigitRune) >= 0
	}):
		return PlaceholderToken
	case shortToken(seg):
		return PlaceholderToken
	}
	return seg
}

// shortToken recognises a whole segment that looks generated rather than
// named: 8 or more bytes of [A-Za-z0-9_-], at least two of them letters
// and two digits ("k9XmQ2pL", "Ab3dE5gH9kLm"). A name with an extension
// ("setup-v2.exe") or mostly one kind ("page2", "2024") is kept.
func shortToken(seg string) bool {
	if len(seg) < minShortToken {
		return false
	}
	letters, digits := 0, 0
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case isDigit(c):
			digits++
		case isLetter(rune(c)):
			letters++
		case c == '_' || c == '-':
		default:
			return false
		}
	}
	return letters >= 2 && digits >= 2
}

// hasRun reports whether s has a maximal run of bytes satisfying in that is
// at least minLen long and, if also is not nil, satisfies also.
func hasRun(s string, in func(byte) bool, minLen int, also func(string) bool) bool {
	for i := 0; i < len(s); {
		if !in(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && in(s[j]) {
			j++
		}
		if j-i >= minLen && (also == nil || also(s[i:j])) {
			return true
		}
		i = j
	}
	return false
}

func isDigit(c byte) bool     { return '0' <= c && c <= '9' }
func isDigitRune(r rune) bool { return '0' <= r && r <= '9' }
func isLetter(r rune) bool    { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }
func isHexDigit(c byte) bool  { _, ok := fromHex(c); return ok }
func isTokenByte(c byte) bool {
	return isDigit(c) || isLetter(rune(c)) || c == '_' || c == '+' || c == '=' || c == '-'
}
