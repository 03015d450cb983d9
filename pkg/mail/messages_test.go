package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"
)

// The test messages, in the format mail servers write (written here, not
// copied from anywhere). Their Received chains use real public addresses
// (8.8.4.4, 9.9.9.9: well-known resolvers, not anyone's mail server) so
// that the public filter has something to keep.

const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

const (
	eicarSHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
	logoSHA256  = "eaa4a94ea300e0d2c775968cbe42f0b5b51ceafdeb73d64e9efddf6d4e880865"
	zipSHA256   = "8739c76e681f900923b900c9df0ef75cf421d39cabb54650c4b9ad19b6a76d85"
)

// eicarMail: multipart/mixed holding a multipart/alternative (a
// quoted-printable text/plain and a text/html), an inline picture and the
// EICAR test file as a base64 attachment. 9.9.9.9 is the user's own relay.
const eicarMail = `Return-Path: <alice.sender@example.com>
Received: from mx.own.example (mx.own.example [9.9.9.9])
	by inbox.own.example (Postfix) with ESMTPS id 4XyZ
	for <bob.recipient@example.org>; Thu, 4 Jan 2024 10:00:03 +0000
Received: from mail.sender.example (mail.sender.example [8.8.4.4])
	by mx.own.example (Postfix) with ESMTPS id 3AbC
	for <bob.recipient@example.org>; Thu, 4 Jan 2024 10:00:02 +0000
Received: from [10.0.0.5] (helo=laptop)
	by mail.sender.example with esmtpsa id 1q2w3e; Thu, 4 Jan 2024 10:00:01 +0000
From: Alice Sender <alice.sender@example.com>
To: Bob Recipient <bob.recipient@example.org>
Subject: Invoice 2024-001 for Bob
Date: Thu, 4 Jan 2024 10:00:00 +0000
Message-ID: <invoice-2024-001@mail.sender.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer-boundary"

This is a multi-part message in MIME format.

--outer-boundary
Content-Type: multipart/alternative; boundary="alt-boundary"

--alt-boundary
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Dear Bob,

please pay the attached invoice at https://pay.example.net/invoice?id=3D42.
See also (https://example.com/terms). Gr=C3=BC=C3=9Fe aus K=C3=B6ln,

Alice
--alt-boundary
Content-Type: text/html; charset=utf-8

<html><body><p>Dear Bob,</p><p>please pay <a href="https://pay.example.net/invoice?id=42">here</a>
or <A HREF='http://Example.COM/terms'>read the terms</A>
(<a href=HTTPS://PAY.example.net/invoice?id=42>again</a>).</p>
<img src="cid:logo@sender"></body></html>
--alt-boundary--

--outer-boundary
Content-Type: image/png; name="logo.png"
Content-Transfer-Encoding: base64
Content-ID: <logo@sender>
Content-Disposition: inline; filename="logo.png"

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAA
AABJRU5ErkJggg==
--outer-boundary
Content-Type: application/octet-stream; name="eicar.com"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="eicar.com"

WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNU
LUZJTEUhJEgrSCo=
--outer-boundary--
`

// nestedMail forwards a message (message/rfc822) that holds invoice.zip.
const nestedMail = `From: Carol Forwarder <carol.forwarder@example.net>
To: Dave Reader <dave.reader@example.org>
Subject: Fwd: your invoice
Message-ID: <fwd-1@example.net>
Received: from relay.example.net (relay.example.net [IPv6:2001:4860:4860::8888])
	by mx.example.org with ESMTP id 77; Fri, 5 Jan 2024 09:00:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b1

--b1
Content-Type: text/plain

See the forwarded message.

--b1
Content-Type: message/rfc822; name="forwarded.eml"
Content-Disposition: attachment; filename="forwarded.eml"

From: Erin Original <erin.original@example.com>
To: Carol Forwarder <carol.forwarder@example.net>
Subject: Invoice inside
Message-ID: <orig-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b2"

--b2
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 invoice attached.
--b2
Content-Type: application/zip; name="invoice.zip"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="invoice.zip"

UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==
--b2--

--b1--
`

// namesMail names its parts every way mail does, and a few ways an
// attacker would.
const namesMail = "From: Grace Names <grace.names@example.com>\r\n" +
	"Subject: names\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"n\"\r\n" +
	"\r\n" +
	"--n\r\n" +
	"Content-Type: application/pdf\r\n" +
	"Content-Disposition: attachment; filename*0*=utf-8''%E2%82%AC; filename*1=\" rates.pdf\"\r\n" +
	"\r\n" +
	"%PDF-1.4 test\r\n" +
	"--n\r\n" +
	"Content-Type: application/octet-stream; name=\"=?UTF-8?B?R3LDvMOfZSwgY2Fmw6k=?=.txt\"\r\n" +
	"Content-Transfer-Encoding: 7bit\r\n" +
	"\r\n" +
	"hello\r\n" +
	"--n\r\n" +
	"Content-Type: text/plain; name=\"=?windows-1252?Q?caf=E9_=80.txt?=\"\r\n" +
	"\r\n" +
	"a text attachment, not a body\r\n" +
	"--n\r\n" +
	"Content-Type: application/octet-stream\r\n" +
	"Content-Disposition: attachment; filename=\"=?utf-8?Q?evil=E2=80=AEgnp.exe?=\"\r\n" +
	"\r\n" +
	"MZ\r\n" +
	"--n\r\n" +
	"Content-Type: application/octet-stream\r\n" +
	"Content-Disposition: attachment; filename=\"a.pdf =?utf-8?Q?=E2=80=BA?= b.exe\"\r\n" +
	"\r\n" +
	"MZ\r\n" +
	"--n\r\n" +
	"Content-Type: application/x-unnamed\r\n" +
	"\r\n" +
	"no name\r\n" +
	"--n--\r\n"

// qpMail is one latin-1 quoted-printable text part.
const qpMail = `From: Frank Latin <frank.latin@example.com>
Subject: =?iso-8859-1?Q?Ol=E9_Frank?=
Message-ID: <qp-1@example.com>
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

Ol=E9,   this  line is soft=
 broken and =93quoted=94.
Visit http://example.org/a_(b) now!
`

// qpNormalised is qpMail's normalised body.
const qpNormalised = "Olé, this line is soft broken and “quoted”. Visit http://example.org/a_(b) now!"

// The names, addresses and subjects of the test messages, none of which
// may appear in a spam record.
var personal = []string{
	"alice", "Alice Sender", "bob", "Bob Recipient", "carol", "dave", "erin", "frank", "grace",
	"example.com", "example.org", "example.net", "own.example", "sender.example",
	"Invoice 2024-001", "your invoice", "Invoice inside", "Olé", "Ol=E9", "names",
	"invoice-2024-001", "fwd-1", "orig-1", "qp-1",
	"eicar.com", "logo.png", "invoice.zip", "forwarded.eml", "rates.pdf", "evil", "café €",
	"Dear", "pay", "terms", "Grüße", "Köln", "quoted",
}

// walked is a walked message and what PartFunc saw.
type walked struct {
	msg    *Message
	res    *Result
	seen   []*Part
	bytes  map[string][]byte // by Join(Path...)
	errors map[string]error  // Part.Err after reading, by Join(Path...)
}

// walk reads and walks raw, reading every part whole.
func walk(t *testing.T, raw string, lim Limits) *walked {
	t.Helper()
	m, err := ReadMessage(strings.NewReader(raw), lim)
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	return walkMessage(t, m)
}

func walkMessage(t *testing.T, m *Message) *walked {
	t.Helper()
	w := &walked{msg: m, bytes: map[string][]byte{}, errors: map[string]error{}}
	w.res = m.Walk(func(p *Part) error {
		b, err := io.ReadAll(p.Body)
		w.seen = append(w.seen, p)
		w.bytes[Join(p.Path...)] = b
		w.errors[Join(p.Path...)] = p.Err()
		return err
	})
	return w
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// names returns the joined paths of the parts in a Result.
func names(res *Result) []string {
	var out []string
	for _, p := range res.Parts {
		out = append(out, Join(p.Path...))
	}
	return out
}
