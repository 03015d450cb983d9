package urlcanon

import "strings"

// unescape percent-decodes s until no %XX sequence (two hex digits, either
// case) is left, as "repeatedly percent-unescape the URL until it has no more
// percent-escapes" asks. A '%' not followed by two hex digits is kept.
//
// It does this in one pass instead of repeating full passes: after each byte
// is appended, the last three output bytes are decoded if they form %XX, and
// again while the decoded byte completes another %XX. Decoding one %XX can
// never break another one (two %XX sequences cannot overlap, since neither
// hex digit is '%'), so every order of decoding reaches the same result as
// the repeated passes; this order takes linear time where the passes take
// quadratic time on input like "%25252525…".
func unescape(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		for n := len(out); n >= 3 && out[n-3] == '%'; n = len(out) {
			hi, ok1 := fromHex(out[n-2])
			lo, ok2 := fromHex(out[n-1])
			if !ok1 || !ok2 {
				break
			}
			out = append(out[:n-3], hi<<4|lo)
		}
	}
	return string(out)
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// needsEscape is the documentation's rule: escape every byte <= ASCII 32,
// >= 127, '#' and '%'. Nothing else is escaped, so '?', '@', ';' and '~'
// stay as they are.
func needsEscape(c byte) bool {
	return c <= 0x20 || c >= 0x7f || c == '#' || c == '%'
}

const upperHex = "0123456789ABCDEF"

// escape applies needsEscape with upper-case hex digits.
func escape(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if needsEscape(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) {
			b = append(b, '%', upperHex[c>>4], upperHex[c&0xf])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}
