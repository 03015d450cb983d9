// Package untrusted makes text that came from outside the machine (a
// server's threat names, categories, labels, problem details; a feed's
// names) safe to store and print: nothing in it can reach a terminal as a
// control sequence, reorder what is shown around it, or hide in
// zero-width characters, and it cannot be longer than its caller allows.
//
// It imports only the standard library.
package untrusted

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits for the kinds of text a server sends.
const (
	NameLen   = 128 // threat names, categories, license labels
	DetailLen = 300 // problem details
)

// Suspect reports whether r must not reach a terminal as it is: C0 and C1
// controls, DEL, bidi embeddings, overrides and isolates (U+202A–U+202E,
// U+2066–U+2069), zero-width and other format characters (Unicode Cf:
// U+200B–U+200F, U+2060–U+2064, U+FEFF, ...), line and paragraph
// separators, and the replacement character that invalid UTF-8 becomes.
func Suspect(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) ||
		unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}

// Text returns s with every suspect character written as a Go escape
// (\x1b, \u202e) and invalid UTF-8 as \x.. bytes, cut to at most limit
// runes (then "…"); limit 0 means no cut. Clean text comes back as it is.
func Text(s string, limit int) string {
	clean := utf8.ValidString(s)
	for _, r := range s {
		if Suspect(r) && r != utf8.RuneError {
			clean = false
			break
		}
	}
	if !clean {
		var b strings.Builder
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && n <= 1:
				fmt.Fprintf(&b, `\x%02x`, s[i])
			case Suspect(r) && r < 0x100:
				fmt.Fprintf(&b, `\x%02x`, r)
			case Suspect(r):
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				b.WriteRune(r)
			}
			i += n
		}
		s = b.String()
	}
	if limit > 0 && utf8.RuneCountInString(s) > limit {
		cut, n := 0, 0
		for i := range s {
			if n == limit-1 {
				cut = i
				break
			}
			n++
		}
		s = s[:cut] + "…"
	}
	return s
}

// idPattern is what a statement id may look like: it is printed, stored
// in the append-only decisions table and repeated in later messages.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$`)

// ValidID reports whether s may serve as an identifier that is stored and
// printed as it is (a statement id): 1 to 64 characters of letters,
// digits and . _ : + -, starting with a letter or digit.
func ValidID(s string) bool { return idPattern.MatchString(s) }
