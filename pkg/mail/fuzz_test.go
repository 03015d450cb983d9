package mail

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/ksnproject/ksn/pkg/untrusted"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// The fuzz targets' seeds are the test messages below and the files under
// testdata/fuzz/<target>, which go test runs as ordinary tests; go test
// -fuzz=FuzzWalk ./pkg/mail looks for more.

// fuzzLimits are small, so that one input costs little.
var fuzzLimits = Limits{HeaderBytes: 4096, Depth: 8, Parts: 100, DecodedBytes: 1 << 20, Links: 20}

// FuzzWalk checks what every message must give: no panic; an error from
// ReadMessage, and every problem, a *Error with a known code; a digest
// for each part that matches the bytes PartFunc read; names that are safe
// to print; no more parts and links than the limits allow.
func FuzzWalk(f *testing.F) {
	for _, s := range []string{eicarMail, nestedMail, namesMail, qpMail, nested(12),
		mixed(true, attachment("cut.com", "base64", "WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVN")),
		"Content-Type: multipart/mixed; boundary=B\n\njust text\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := ReadMessage(bytes.NewReader(raw), fuzzLimits)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code() == "error" {
				t.Fatalf("ReadMessage: %T %v", err, err)
			}
			return
		}
		if untrusted.Text(m.ID, 0) != m.ID {
			t.Fatalf("Message-ID %q is not sanitised", m.ID)
		}
		read := map[*Part][]byte{}
		var order []*Part
		res := m.Walk(func(p *Part) error {
			b, err := io.ReadAll(p.Body)
			read[p], order = b, append(order, p)
			return err
		})
		if res.Err != nil {
			t.Fatalf("Walk: %v", res.Err)
		}
		for _, e := range res.Problems {
			if e.Code() == "error" {
				t.Fatalf("problem without a code: %v", e)
			}
		}
		if len(res.Parts) != len(order) || len(res.Parts) > fuzzLimits.Parts || len(res.Links) > fuzzLimits.Links {
			t.Fatalf("%d parts, PartFunc called %d times, %d links", len(res.Parts), len(order), len(res.Links))
		}
		for i, r := range res.Parts {
			b := read[order[i]]
			if r.SHA256 != "" && (r.SHA256 != sha(b) || r.Size != int64(len(b))) {
				t.Fatalf("part %d: %d bytes read, result %d bytes %s", i, len(b), r.Size, r.SHA256)
			}
			if r.SHA256 == "" && !errors.Is(r.Err, ErrTooLarge) {
				t.Fatalf("part %d has no digest and is not too large: %v", i, r.Err)
			}
			if r.Depth > fuzzLimits.Depth {
				t.Fatalf("part %d at depth %d", i, r.Depth)
			}
			for _, n := range r.Path {
				if untrusted.Text(n, 0) != n || n == "" {
					t.Fatalf("part %d: name %q is not sanitised", i, n)
				}
			}
		}
		for _, l := range res.Links {
			if !hasLinkScheme(l) || len(l) > maxLinkLen {
				t.Fatalf("link %q", l)
			}
		}
	})
}

// FuzzMbox checks that splitting never panics, numbers messages from 1,
// gives out no more bytes than it read, and does not depend on how the
// reads are cut.
func FuzzMbox(f *testing.F) {
	for _, s := range []string{
		"From a 10:00\nA: 1\n\none\n\nFrom b 10:00\nA: 2\n\n>From two\n",
		"From a 10:00\r\nA: 1\r\n\r\n\r\nFrom b 10:00\r\n",
		"no separator\n",
		"\n\nFrom x 1:00\n>>From 12:00\nlast",
		"From alice@example.com Thu Jan  4 10:00:00 2024\n" + eicarMail,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		whole := split(t, bytes.NewReader(raw))
		if out := len(bytes.Join(whole, nil)); out > len(raw) {
			t.Fatalf("%d bytes out of %d in", out, len(raw))
		}
		if byOne := split(t, iotest.OneByteReader(bytes.NewReader(raw))); !slices.EqualFunc(whole, byOne, bytes.Equal) {
			t.Fatalf("one byte at a time: %q, whole: %q", byOne, whole)
		}
	})
}

func split(t *testing.T, r io.Reader) [][]byte {
	mb := NewMbox(r)
	var out [][]byte
	for {
		m, err := mb.Next()
		if err == io.EOF {
			return out
		}
		if err != nil || m.Number != len(out)+1 {
			t.Fatalf("Next: %v (message %d)", err, len(out)+1)
		}
		b, err := io.ReadAll(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
}

// FuzzReceived checks that the Received parser never panics and returns
// valid addresses, and that SenderIPs keeps only public ones.
func FuzzReceived(f *testing.F) {
	for _, s := range []string{
		"from mail.sender.example (mail.sender.example [8.8.4.4]) by mx (Postfix) with ESMTPS id 3AbC; Thu, 4 Jan 2024",
		"from [8.8.4.4] (helo=[1.1.1.1]) by x with esmtp",
		"from unknown (HELO x) (8.8.4.4) by y",
		"from x (x [IPv6:2001:4860:4860::8888]:25) by y",
		"from x ((((( [::ffff:10.0.0.1] ) by",
		"from [fe80::1%eth0] by y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, a := range ParseReceived(v) {
			if !a.IsValid() || a.Is4In6() {
				t.Fatalf("ParseReceived(%q) gave %v", v, a)
			}
		}
		for _, a := range SenderIPs(map[string][]string{"Received": {v, v}}, nil) {
			if !urlcanon.PublicAddr(a) || a.Zone() != "" {
				t.Fatalf("SenderIPs(%q) gave %v", v, a)
			}
		}
	})
}
