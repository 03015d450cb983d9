package mail

import (
	"bytes"
	"path/filepath"
	"strings"
)

// Format is what Detect finds a file to be.
type Format int

// The formats.
const (
	FormatNone    Format = iota // anything else
	FormatMessage               // one RFC 5322 message (.eml)
	FormatMbox                  // an mbox: messages after "From " lines (.mbox, .mbx)
)

// String is the format's name: "not mail", "message" or "mbox".
func (f Format) String() string {
	switch f {
	case FormatMessage:
		return "message"
	case FormatMbox:
		return "mbox"
	}
	return "not mail"
}

// SniffLen is how much of the start of a file Detect wants: enough for a
// mail header block's first fields, even behind long DKIM signatures.
const SniffLen = 8192

// Detect tells mail by content and by name. head is the start of the file
// (up to SniffLen bytes; less for a short file). Content wins over the
// name when it is conclusive, except that an mbox stays an mbox: a name
// ending in .mbox or .mbx with a message at the start is read as an mbox
// whose first message lacks its "From " line, so that the later messages
// are not taken for the first one's body.
func Detect(name string, head []byte) Format {
	ext := strings.ToLower(filepath.Ext(name))
	byName := FormatNone
	switch ext {
	case ".eml":
		byName = FormatMessage
	case ".mbox", ".mbx":
		byName = FormatMbox
	}
	if line, rest, ok := bytes.Cut(head, []byte("\n")); ok && isSeparator(line) && looksLikeHeader(rest) {
		return FormatMbox
	}
	if byName == FormatMbox {
		return FormatMbox
	}
	if looksLikeHeader(head) {
		return FormatMessage
	}
	return byName
}

// knownFields are header fields of mail; strongFields, those of them a
// web server's or an HTTP client's header dump does not carry, so that
// such a dump (Date, Content-Type) is not taken for a message.
var (
	knownFields = map[string]bool{
		"date": true, "subject": true, "content-type": true, "content-transfer-encoding": true,
		"user-agent": true, "list-id": true, "thread-topic": true, "x-spam-status": true,
	}
	strongFields = map[string]bool{
		"from": true, "to": true, "cc": true, "message-id": true, "received": true,
		"return-path": true, "delivered-to": true, "mime-version": true, "dkim-signature": true,
		"x-mailer": true, "reply-to": true, "sender": true, "in-reply-to": true,
		"references": true, "x-original-to": true, "arc-seal": true,
		"authentication-results": true, "x-received": true,
	}
)

// looksLikeHeader reports whether b starts with an RFC 5322 header block:
// field lines (a name of printable ASCII, a colon) and their continuation
// lines up to an empty line or the end of b, with at least two mail fields
// of which one is a strong one. A last line cut by the end of b is not
// judged.
func looksLikeHeader(b []byte) bool {
	known, strong := 0, 0
	seenField := false
	for len(b) > 0 {
		line, rest, complete := bytes.Cut(b, []byte("\n"))
		b = rest
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if !seenField {
				return false
			}
			continue
		}
		name, ok := fieldName(line)
		if !ok {
			if !complete {
				break
			}
			return false
		}
		seenField = true
		name = strings.ToLower(name)
		if strongFields[name] {
			strong++
			known++
		} else if knownFields[name] {
			known++
		}
	}
	return known >= 2 && strong >= 1
}

// fieldName returns the name of a header field line: printable ASCII but
// the colon, then (after optional blanks, which old mail has) a colon.
func fieldName(line []byte) (string, bool) {
	i := 0
	for i < len(line) && line[i] > ' ' && line[i] < 0x7f && line[i] != ':' {
		i++
	}
	if i == 0 {
		return "", false
	}
	j := i
	for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
		j++
	}
	if j == len(line) || line[j] != ':' {
		return "", false
	}
	return string(line[:i]), true
}
