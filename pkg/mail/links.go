package mail

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// maxLinkLen bounds a link, in bytes: longer ones are not links people
// follow but payloads, and a bound keeps the scanners' memory small.
const maxLinkLen = 4096

// maxTagLen bounds an HTML tag the scanner reads for href attributes.
const maxTagLen = 16 << 10

// linkSet keeps a message's links in the order they first appear, each
// once: two links are the same when their canonical forms (urlcanon, as
// ksn url looks them up) are, or, for a link that has none, when they are
// the same text.
type linkSet struct {
	max     int
	links   []string
	seen    map[string]bool
	dropped int
}

// add keeps link if it is an http or https link of at most maxLinkLen
// bytes without white space or control characters.
func (s *linkSet) add(link string) {
	if len(link) > maxLinkLen || !hasLinkScheme(link) || len(link) <= len("http://") {
		return
	}
	for _, r := range link {
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return
		}
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	if s.seen[link] {
		return
	}
	s.seen[link] = true
	if c, err := urlcanon.Canonicalize(link); err == nil {
		key := "\x00" + c.URL // apart from the raw texts
		if s.seen[key] {
			return
		}
		s.seen[key] = true
	}
	if len(s.links) >= s.max {
		s.dropped++
		return
	}
	s.links = append(s.links, link)
}

func hasLinkScheme(s string) bool {
	return hasPrefixFold(s, "http://") || hasPrefixFold(s, "https://")
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case only: Unicode
// folding would take "httpſ://" (long s) for a link.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// plainScanner finds links in plain text: a link starts at "http://" or
// "https://" inside a run of characters other than white space and
// <>"` (which mail puts around links), and ends with the run, less the
// punctuation a sentence puts after it and a closing bracket that
// was opened before the link.
type plainScanner struct {
	links *linkSet
	tok   []byte
	over  bool // the run is longer than maxLinkLen: not a link
}

func (s *plainScanner) rune(r rune) {
	if r <= ' ' || r == 0x7f || unicode.IsSpace(r) || strings.ContainsRune("<>\"`", r) {
		s.end()
		return
	}
	if s.over {
		return
	}
	if len(s.tok) >= maxLinkLen {
		s.over, s.tok = true, s.tok[:0]
		return
	}
	s.tok = utf8.AppendRune(s.tok, r)
}

func (s *plainScanner) end() {
	if !s.over && len(s.tok) > len("http://") {
		s.find(string(s.tok))
	}
	s.tok, s.over = s.tok[:0], false
}

func (s *plainScanner) find(tok string) {
	for i := 0; i+len("http://") < len(tok); i++ {
		if tok[i]|0x20 == 'h' && hasLinkScheme(tok[i:]) {
			s.links.add(trimLink(tok[i:]))
			return
		}
	}
}

// trimLink removes what follows a link in prose: ".", ",", ";", ":",
// "!", "?", quotes, and closing brackets without an opening one inside.
func trimLink(s string) string {
	for len(s) > 0 {
		last := s[len(s)-1]
		switch {
		case strings.IndexByte(".,;:!?'*", last) >= 0:
		case last == ')' && strings.Count(s, "(") < strings.Count(s, ")"):
		case last == ']' && strings.Count(s, "[") < strings.Count(s, "]"):
		case last == '}' && strings.Count(s, "{") < strings.Count(s, "}"):
		default:
			return s
		}
		s = s[:len(s)-1]
	}
	return s
}

// htmlScanner finds the href attributes of HTML tags (of any element:
// a, area, base, link), with their character references resolved. Text
// outside tags is not looked at: a link a reader can follow is an href.
// Without an HTML parser in the standard library this is a tokenizer of
// tags only, which is what finding attributes needs.
type htmlScanner struct {
	links *linkSet
	inTag bool
	quote rune
	over  bool
	tag   []byte
}

func (s *htmlScanner) rune(r rune) {
	if !s.inTag {
		if r == '<' {
			s.inTag, s.quote, s.over, s.tag = true, 0, false, s.tag[:0]
		}
		return
	}
	switch {
	case s.quote != 0 && r == s.quote:
		s.quote = 0
	case s.quote == 0 && (r == '"' || r == '\'') && len(s.tag) > 0 && s.tag[len(s.tag)-1] == '=':
		s.quote = r
	case s.quote == 0 && r == '>':
		s.tagEnd()
		return
	}
	if len(s.tag) >= maxTagLen {
		s.over = true
		return
	}
	s.tag = utf8.AppendRune(s.tag, r)
}

// tagEnd parses the tag read so far.
func (s *htmlScanner) tagEnd() {
	if !s.over {
		for _, v := range hrefs(string(s.tag)) {
			s.links.add(strings.TrimSpace(html.UnescapeString(v)))
		}
	}
	s.inTag, s.tag = false, s.tag[:0]
}

// end ends the text: a tag cut by it is no tag a reader sees.
func (s *htmlScanner) end() { s.inTag, s.tag = false, s.tag[:0] }

// hrefs returns the values of the href attributes in a tag's text (what
// is between < and >): name, then attributes, each name[=value] with the
// value quoted with " or ', or unquoted up to white space.
func hrefs(tag string) []string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '/' }
	i := 0
	for i < len(tag) && !isSpace(tag[i]) {
		i++
	}
	var out []string
	for i < len(tag) {
		for i < len(tag) && isSpace(tag[i]) {
			i++
		}
		start := i
		for i < len(tag) && !isSpace(tag[i]) && tag[i] != '=' {
			i++
		}
		name := tag[start:i]
		for i < len(tag) && isSpace(tag[i]) && tag[i] != '/' {
			i++
		}
		if i >= len(tag) || tag[i] != '=' {
			if i == start {
				i++ // a stray character: step over it
			}
			continue
		}
		i++
		for i < len(tag) && (tag[i] == ' ' || tag[i] == '\t' || tag[i] == '\n' || tag[i] == '\r' || tag[i] == '\f') {
			i++
		}
		var value string
		if i < len(tag) && (tag[i] == '"' || tag[i] == '\'') {
			q := tag[i]
			end := strings.IndexByte(tag[i+1:], q)
			if end < 0 {
				end = len(tag) - i - 1
			}
			value = tag[i+1 : i+1+end]
			i += end + 2
		} else {
			start := i
			for i < len(tag) && tag[i] != ' ' && tag[i] != '\t' && tag[i] != '\n' && tag[i] != '\r' && tag[i] != '\f' {
				i++
			}
			value = tag[start:i]
		}
		if strings.EqualFold(name, "href") {
			out = append(out, value)
		}
	}
	return out
}
