package feeds

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/ksnproject/ksn/pkg/checksum"
)

// The reasons a line is rejected. They are unexported so the API stays
// small, but every LineError wraps one, which lets the tests check that a
// line was rejected for the reason it should have been.
var (
	errLineTooLong  = errors.New("line too long")
	errBadHex       = errors.New("digest is not hexadecimal")
	errDigestLength = errors.New("digest has the wrong length")
	errMissingField = errors.New("missing field")
	errBadSize      = errors.New("bad file size")
	errBadDate      = errors.New("bad date")
	errBadCSV       = errors.New("bad CSV")
	errBadAlgorithm = errors.New("unknown digest algorithm")
	errBadField     = errors.New("bad field")
)

// parseDigest decodes a hex digest (either case) whose length must be that
// of one of the allowed algorithms; with several allowed, the length picks
// one. The bytes are freshly allocated, so callers may keep them.
func parseDigest(s string, allowed ...checksum.Algorithm) (checksum.Algorithm, []byte, error) {
	if s == "" {
		return "", nil, fmt.Errorf("%w: empty digest", errMissingField)
	}
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return "", nil, fmt.Errorf("%w: %s", errBadHex, quote(s))
		}
	}
	var alg checksum.Algorithm
	for _, a := range allowed {
		if len(s) == 2*a.Size() {
			alg = a
			break
		}
	}
	if alg == "" {
		return "", nil, fmt.Errorf("%w: %d hex characters, want %s", errDigestLength, len(s), lengthsOf(allowed))
	}
	b, err := hex.DecodeString(s)
	if err != nil { // unreachable after the checks above; kept so a bad edit cannot emit garbage
		return "", nil, fmt.Errorf("%w: %v", errBadHex, err)
	}
	return alg, b, nil
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// lengthsOf describes the accepted digest lengths, e.g. "64 (sha256) or 40 (sha1)".
func lengthsOf(algs []checksum.Algorithm) string {
	var parts []string
	seen := map[int]bool{}
	for _, a := range algs {
		n := 2 * a.Size()
		if seen[n] {
			continue
		}
		seen[n] = true
		parts = append(parts, fmt.Sprintf("%d (%s)", n, a))
	}
	slices.Sort(parts)
	slices.Reverse(parts)
	return strings.Join(parts, " or ")
}

// isDigits reports whether s is a non-empty run of ASCII digits; strconv
// alone would also accept signs.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// cleanName makes a feed-supplied name safe to store and print: feeds are
// third-party data, and a threat name is later written to terminals, so
// control characters (escape sequences), invisible format characters (bidi
// overrides that make a name read as another) and invalid UTF-8 must not
// survive.
func cleanName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// quote shows offending input in an error, shortened so one bad line of a
// megabyte does not become a megabyte of error message.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
