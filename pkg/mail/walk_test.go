package mail

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
)

func TestEICARFixtureIsEICAR(t *testing.T) {
	if sha([]byte(eicar)) != eicarSHA256 {
		t.Fatalf("the EICAR constant is not the EICAR test file")
	}
	if b64 := base64.StdEncoding.EncodeToString([]byte(eicar)); !strings.Contains(strings.ReplaceAll(eicarMail, "\n", ""), b64) {
		t.Fatalf("eicarMail does not carry EICAR as base64")
	}
}

func TestWalkParts(t *testing.T) {
	type want struct {
		path    string
		ctype   string
		depth   int
		picture bool
		sha256  string
	}
	tests := []struct {
		name  string
		raw   string
		id    string
		parts []want
		links []string
	}{
		{
			name: "multipart/mixed with a picture and a base64 attachment",
			raw:  eicarMail,
			id:   "<invoice-2024-001@mail.sender.example>",
			parts: []want{
				{"logo.png", "image/png", 1, true, logoSHA256},
				{"eicar.com", "application/octet-stream", 1, false, eicarSHA256},
			},
			links: []string{"https://pay.example.net/invoice?id=42", "https://example.com/terms", "http://Example.COM/terms"},
		},
		{
			name:  "attached message",
			raw:   nestedMail,
			id:    "<fwd-1@example.net>",
			parts: []want{{"forwarded.eml › invoice.zip", "application/zip", 3, false, zipSHA256}},
		},
		{
			name: "RFC 2231 and RFC 2047 names, sanitised",
			raw:  namesMail,
			parts: []want{
				{"€ rates.pdf", "application/pdf", 1, false, sha([]byte("%PDF-1.4 test"))},
				{"Grüße, café.txt", "application/octet-stream", 1, false, sha([]byte("hello"))},
				{"café €.txt", "text/plain", 1, false, sha([]byte("a text attachment, not a body"))},
				{`evil\u202egnp.exe`, "application/octet-stream", 1, false, sha([]byte("MZ"))},
				{"a.pdf > b.exe", "application/octet-stream", 1, false, sha([]byte("MZ"))},
				{"part 7", "application/x-unnamed", 1, false, sha([]byte("no name"))},
			},
		},
		{
			name:  "a single quoted-printable text part",
			raw:   qpMail,
			id:    "<qp-1@example.com>",
			links: []string{"http://example.org/a_(b)"},
		},
		{
			name: "a message that is one attachment",
			raw: "From: a@example.com\nMessage-ID: <one@x>\nContent-Type: application/pdf; name=doc.pdf\n" +
				"Content-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString([]byte(eicar)) + "\n",
			id:    "<one@x>",
			parts: []want{{"doc.pdf", "application/pdf", 0, false, eicarSHA256}},
		},
		{
			name:  "no Content-Type: plain text",
			raw:   "From: a@example.com\nTo: b@example.com\n\nhttp://example.net/x\n",
			links: []string{"http://example.net/x"},
		},
		{
			name: "multipart/digest parts are messages",
			raw: "From: a@example.com\nContent-Type: multipart/digest; boundary=d\n\n--d\n\n" +
				"From: b@example.com\nContent-Type: image/gif; name=x.gif\n\nGIF89a\n--d--\n",
			parts: []want{{"part 2 › x.gif", "image/gif", 2, true, sha([]byte("GIF89a"))}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := walk(t, tt.raw, Limits{})
			if w.msg.ID != tt.id {
				t.Errorf("ID = %q, want %q", w.msg.ID, tt.id)
			}
			if w.res.Err != nil || len(w.res.Problems) > 0 {
				t.Errorf("Err %v, Problems %v", w.res.Err, w.res.Problems)
			}
			if len(w.res.Parts) != len(tt.parts) || len(w.seen) != len(tt.parts) {
				t.Fatalf("parts %q (PartFunc saw %d), want %d", names(w.res), len(w.seen), len(tt.parts))
			}
			for i, p := range w.res.Parts {
				wp := tt.parts[i]
				got := want{Join(p.Path...), p.ContentType, p.Depth, p.Picture, p.SHA256}
				if got != wp {
					t.Errorf("part %d = %+v, want %+v", i, got, wp)
				}
				if seen := w.seen[i]; seen.Name != p.Name || p.Name != p.Path[len(p.Path)-1] || seen.Picture != p.Picture {
					t.Errorf("part %d: PartFunc saw %q, result %q", i, seen.Name, p.Name)
				}
				if sha(w.bytes[got.path]) != p.SHA256 || p.Size != int64(len(w.bytes[got.path])) || p.Err != nil {
					t.Errorf("part %d: PartFunc read %d bytes, result %d bytes %s, err %v", i, len(w.bytes[got.path]), p.Size, p.SHA256, p.Err)
				}
			}
			if !slices.Equal(w.res.Links, tt.links) {
				t.Errorf("links %q, want %q", w.res.Links, tt.links)
			}
		})
	}
}

// TestWalkUnreadRest: a PartFunc that reads a few bytes gets the same
// digest in the Result as one that reads all.
func TestWalkUnreadRest(t *testing.T) {
	m, err := ReadMessage(strings.NewReader(eicarMail), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	res := m.Walk(func(p *Part) error {
		var b [3]byte
		_, err := p.Body.Read(b[:])
		return err
	})
	if len(res.Parts) != 2 || res.Parts[1].SHA256 != eicarSHA256 || res.Parts[1].Size != int64(len(eicar)) {
		t.Fatalf("parts %+v", res.Parts)
	}
	if again := m.Walk(func(*Part) error { return nil }); again.Err == nil {
		t.Errorf("a second Walk did not say the message was walked")
	}
}

// TestWalkStops: an error from PartFunc ends the walk and is Result.Err.
func TestWalkStops(t *testing.T) {
	m, err := ReadMessage(strings.NewReader(eicarMail), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	stop := errFixed("interrupted")
	calls := 0
	res := m.Walk(func(p *Part) error { calls++; return stop })
	if res.Err != stop || calls != 1 || len(res.Parts) != 1 || res.Parts[0].SHA256 != "" {
		t.Fatalf("Err %v after %d calls, parts %+v", res.Err, calls, res.Parts)
	}
}

type errFixed string

func (e errFixed) Error() string { return string(e) }

// TestBodyDigest: the normalised body is what text.go says.
func TestBodyDigest(t *testing.T) {
	crlf := strings.ReplaceAll(qpMail, "\n", "\r\n")
	b64 := "Subject: x\nContent-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: base64\n\n" +
		base64.StdEncoding.EncodeToString([]byte("Ol\xe9,\t\tthis line is soft broken\r\n\r\n and \x93quoted\x94. Visit http://example.org/a_(b) now!\n")) + "\n"
	utf8Zero := "Subject: x\nContent-Type: text/plain; charset=utf-8\n\n  Olé,\u00a0this line is soft broken and “quo\u200bted”. Visit http://example.org/a_(b) now!  \n"
	for _, raw := range []string{qpMail, crlf, b64, utf8Zero} {
		if got := walk(t, raw, Limits{}).res.BodySHA256; got != sha([]byte(qpNormalised)) {
			t.Errorf("body digest %s, want the SHA-256 of %q, for\n%s", got, qpNormalised, raw)
		}
	}
	changed := strings.Replace(qpMail, "\nOl=E9,", "\nol=E9,", 1)
	if walk(t, changed, Limits{}).res.BodySHA256 == sha([]byte(qpNormalised)) {
		t.Errorf("case is not kept")
	}
	two := "Content-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/plain\n\n one \n--a\n" +
		"Content-Type: text/html\n\n<b>two</b>\n--a\nContent-Type: text/plain; name=not-body.txt\n\nthree\n--a--\n"
	if got := walk(t, two, Limits{}).res.BodySHA256; got != sha([]byte("one\n<b>two</b>")) {
		t.Errorf("two body texts: %s", got)
	}
	raw := "Content-Type: text/plain; charset=koi8-r\n\n\xf0\xd2\xc9\xd7\xc5\xd4  \xed\xc9\xd2\n"
	if got := walk(t, raw, Limits{}).res.BodySHA256; got != sha([]byte("\xf0\xd2\xc9\xd7\xc5\xd4 \xed\xc9\xd2")) {
		t.Errorf("an unconverted charset: %s", got)
	}
	if got := walk(t, "Content-Type: image/gif\n\nGIF89a", Limits{}).res.BodySHA256; got != "" {
		t.Errorf("no body text, digest %q", got)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name, head string
		want       Format
	}{
		{"msg.eml", eicarMail, FormatMessage},
		{"msg.txt", eicarMail, FormatMessage},
		{"noext", "Received: from x\nDate: today\nSubject: hi\n\nbody", FormatMessage},
		{"archive.mbox", "From alice@example.com Thu Jan  4 10:00:00 2024\n" + qpMail, FormatMbox},
		{"archive", "From alice@example.com Thu Jan  4 10:00:00 2024\r\n" + namesMail, FormatMbox},
		{"one.mbox", qpMail, FormatMbox},
		{"x.MBX", "", FormatMbox},
		{"empty.eml", "", FormatMessage},
		{"notes.txt", "From here on, we meet on Mondays.\nNote: bring coffee\n", FormatNone},
		{"http.txt", "Date: Thu, 4 Jan 2024\nContent-Type: text/html\n\n<html>", FormatNone},
		{"code.go", "package mail\n\nimport \"io\"\n", FormatNone},
		{"cut.bin", "From: a@example.com\nTo: b@example.com\nSubject: a header cut by the sniff len", FormatMessage},
		{"bin", "\x7fELF\x02\x01\x01", FormatNone},
		{"continuation", " folded: x\nFrom: a\nTo: b\n\n", FormatNone},
	}
	for _, tt := range tests {
		if got := Detect(tt.name, []byte(tt.head)); got != tt.want {
			t.Errorf("Detect(%q, %.30q) = %v, want %v", tt.name, tt.head, got, tt.want)
		}
	}
}
