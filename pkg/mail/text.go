package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// charset is how a text part's bytes become characters.
type charset int

const (
	charsetUTF8 charset = iota // utf-8, us-ascii, none
	charset1252                // iso-8859-1, windows-1252 and their other names
	charsetRaw                 // anything else: bytes as they are
)

// charsetOf maps a charset parameter to a charset.
func charsetOf(name string) charset {
	switch strings.ToLower(strings.Trim(strings.TrimSpace(name), `"`)) {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "unicode-1-1-utf-8":
		return charsetUTF8
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819",
		"iso-ir-100", "csisolatin1", "windows-1252", "cp1252", "x-cp1252":
		return charset1252
	}
	return charsetRaw
}

// cp1252 are the characters of windows-1252's bytes 0x80–0x9F; its other
// bytes are the Unicode code points of the same number. The five bytes
// windows-1252 leaves undefined map to those code points too, as WHATWG's
// encoding standard says.
var cp1252 = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

func rune1252(b byte) rune {
	if b >= 0x80 && b < 0xA0 {
		return cp1252[b-0x80]
	}
	return rune(b)
}

// decode1252 converts windows-1252 text to UTF-8 (for RFC 2047 names).
func decode1252(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		s.WriteRune(rune1252(c))
	}
	return s.String()
}

// bodyText collects a message's body texts: the normalised body's digest
// and the links.
type bodyText struct {
	h     hash.Hash
	buf   []byte // normalised text not yet hashed
	parts int
	space bool // white space seen since the last character
	wrote bool // a character written in the current part
	links linkSet
}

func newBodyText(maxLinks int) *bodyText {
	return &bodyText{h: sha256.New(), buf: make([]byte, 0, 4096), links: linkSet{max: maxLinks}}
}

// part starts a body text: a writer of its decoded bytes. Close it at the
// end of the part.
func (b *bodyText) part(cs charset, html bool) *textSink {
	if b.parts > 0 {
		b.buf = append(b.buf, '\n')
	}
	b.parts++
	b.space, b.wrote = false, false
	t := &textSink{body: b, cs: cs}
	if html {
		t.scan = &htmlScanner{links: &b.links}
	} else {
		t.scan = &plainScanner{links: &b.links}
	}
	return t
}

// add adds one character of the current part to the normalised text.
func (b *bodyText) add(r rune) {
	switch {
	case unicode.IsSpace(r):
		b.space = true
		return
	case unicode.Is(unicode.Cf, r):
		return
	}
	if b.space && b.wrote {
		b.buf = append(b.buf, ' ')
	}
	b.space, b.wrote = false, true
	b.buf = utf8.AppendRune(b.buf, r)
	b.flush(false)
}

// addRaw adds a byte of a part in a charset not converted.
func (b *bodyText) addRaw(c byte) {
	if c < utf8.RuneSelf {
		b.add(rune(c))
		return
	}
	if b.space && b.wrote {
		b.buf = append(b.buf, ' ')
	}
	b.space, b.wrote = false, true
	b.buf = append(b.buf, c)
	b.flush(false)
}

func (b *bodyText) flush(all bool) {
	if all || len(b.buf) >= 4000 {
		b.h.Write(b.buf)
		b.buf = b.buf[:0]
	}
}

// digest is the normalised body's SHA-256 in hex, "" without body texts.
func (b *bodyText) digest() string {
	if b.parts == 0 {
		return ""
	}
	b.flush(true)
	return hex.EncodeToString(b.h.Sum(nil))
}

// textSink takes one body text's decoded bytes, converting them to
// characters for the normaliser and the link scanner. It holds the bytes
// of a character cut by a read (at most three).
type textSink struct {
	body  *bodyText
	cs    charset
	scan  runeScanner
	carry [4]byte
	nc    int
}

// runeScanner looks for links in a stream of characters.
type runeScanner interface {
	rune(r rune)
	end()
}

var _ io.Writer = (*textSink)(nil)

func (t *textSink) Write(p []byte) (int, error) {
	n := len(p)
	switch t.cs {
	case charset1252:
		for _, c := range p {
			t.rune(rune1252(c))
		}
		return n, nil
	case charsetRaw:
		for _, c := range p {
			t.body.addRaw(c)
			if c < utf8.RuneSelf {
				t.scan.rune(rune(c))
			} else {
				t.scan.rune(' ') // not a character we know: it ends a link
			}
		}
		return n, nil
	}
	for t.nc > 0 && len(p) > 0 {
		t.carry[t.nc] = p[0]
		t.nc++
		p = p[1:]
		t.drain(false)
	}
	for len(p) > 0 {
		if p[0] < utf8.RuneSelf {
			t.rune(rune(p[0]))
			p = p[1:]
			continue
		}
		if !utf8.FullRune(p) {
			t.nc = copy(t.carry[:], p)
			break
		}
		r, size := utf8.DecodeRune(p)
		t.rune(r)
		p = p[size:]
	}
	return n, nil
}

// drain decodes the characters in carry; at the end of the part (final)
// an incomplete one too, as U+FFFD.
func (t *textSink) drain(final bool) {
	for t.nc > 0 && (final || utf8.FullRune(t.carry[:t.nc])) {
		r, size := utf8.DecodeRune(t.carry[:t.nc])
		t.rune(r)
		t.nc = copy(t.carry[:], t.carry[size:t.nc])
	}
}

func (t *textSink) rune(r rune) {
	t.body.add(r)
	t.scan.rune(r)
}

// Close ends the part.
func (t *textSink) Close() error {
	t.drain(true)
	t.scan.end()
	return nil
}
