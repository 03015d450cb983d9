package mail

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"

	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// RecordKind is the kind of the outbox record and submission that carries
// a Spam body.
const RecordKind = "spam"

// Judgement is a participant's judgement of a message.
type Judgement string

// The judgements: none for a message ksn check read, spam or ham for one a
// participant reported with ksn mail report --spam or --ham.
const (
	JudgementNone Judgement = "none"
	JudgementSpam Judgement = "spam"
	JudgementHam  Judgement = "ham"
)

// MaxSpamDigests bounds each list of digests in a Spam record.
const MaxSpamDigests = 1000

// Spam is the body of a "spam" record: the statistics concerning spam
// that the participation statement names ("checksums of scanned messages,
// pictures and attachments; senders' IP addresses"), for one message, and
// nothing else: no address, name, subject, body text, file name or
// Message-ID. Its JSON has exactly these fields, all required; ParseSpam
// refuses any other, a field given twice, and a value out of its bounds:
//
//	{
//	  "body_sha256":       "" | 64 lower-case hex: SHA-256 of the normalised body (see the package doc),
//	                       "" when the message has no body text,
//	  "attachment_sha256": [64 lower-case hex, ...]: the SHA-256 of each attachment's decoded
//	                       bytes, each once, in message order, at most MaxSpamDigests,
//	  "picture_sha256":    [the same for image/* parts, inline or attached],
//	  "sender_ips":        ["203.0.113.7", "2001:db8::1", ...]: public addresses in canonical
//	                       form (netip), each once, nearest the sender first, at most
//	                       MaxSenderIPs (SenderIPs),
//	  "judgement":         "none" | "spam" | "ham"
//	}
//
// Arrays are never null: an empty list is []. A part read only in part
// (over Limits.DecodedBytes) has no digest and is not listed.
type Spam struct {
	BodySHA256  string    `json:"body_sha256"`
	Attachments []string  `json:"attachment_sha256"`
	Pictures    []string  `json:"picture_sha256"`
	SenderIPs   []string  `json:"sender_ips"`
	Judgement   Judgement `json:"judgement"`
}

// Observe builds the Spam record of a walked message: res is what Walk
// returned for m, own the user's relays. Its judgement is none.
func Observe(m *Message, res *Result, own Relays) Spam {
	s := Spam{BodySHA256: res.BodySHA256, Attachments: []string{}, Pictures: []string{}, SenderIPs: []string{}, Judgement: JudgementNone}
	for _, p := range res.Parts {
		list := &s.Attachments
		if p.Picture {
			list = &s.Pictures
		}
		if p.SHA256 != "" && len(*list) < MaxSpamDigests && !slices.Contains(*list, p.SHA256) {
			*list = append(*list, p.SHA256)
		}
	}
	for _, a := range SenderIPs(m.Header, own) {
		s.SenderIPs = append(s.SenderIPs, a.String())
	}
	return s
}

// Report returns the record carrying the participant's judgement j.
func (s Spam) Report(j Judgement) Spam {
	s.Judgement = j
	return s
}

// MarshalJSON writes the fields in the schema's order, with [] for an
// empty list.
func (s Spam) MarshalJSON() ([]byte, error) {
	type plain Spam
	p := plain(s)
	for _, l := range []*[]string{&p.Attachments, &p.Pictures, &p.SenderIPs} {
		if *l == nil {
			*l = []string{}
		}
	}
	return json.Marshal(p)
}

// Validate checks the values against the schema (see Spam).
func (s Spam) Validate() error {
	if s.BodySHA256 != "" && !isSHA256Hex(s.BodySHA256) {
		return fmt.Errorf("body_sha256: not 64 lower-case hex characters")
	}
	for _, l := range []struct {
		field string
		list  []string
	}{{"attachment_sha256", s.Attachments}, {"picture_sha256", s.Pictures}} {
		if len(l.list) > MaxSpamDigests {
			return fmt.Errorf("%s: more than %d digests", l.field, MaxSpamDigests)
		}
		seen := make(map[string]bool, len(l.list)) // not a scan per digest: a server checks a thousand
		for i, d := range l.list {
			if !isSHA256Hex(d) {
				return fmt.Errorf("%s[%d]: not 64 lower-case hex characters", l.field, i)
			}
			if seen[d] {
				return fmt.Errorf("%s[%d]: given twice", l.field, i)
			}
			seen[d] = true
		}
	}
	if len(s.SenderIPs) > MaxSenderIPs {
		return fmt.Errorf("sender_ips: more than %d addresses", MaxSenderIPs)
	}
	for i, ip := range s.SenderIPs {
		a, err := netip.ParseAddr(ip)
		switch {
		case err != nil || a.String() != ip:
			return fmt.Errorf("sender_ips[%d]: not an address in canonical form", i)
		case !urlcanon.PublicAddr(a):
			return fmt.Errorf("sender_ips[%d]: not a public address", i)
		case slices.Contains(s.SenderIPs[:i], ip):
			return fmt.Errorf("sender_ips[%d]: given twice", i)
		}
	}
	switch s.Judgement {
	case JudgementNone, JudgementSpam, JudgementHam:
		return nil
	}
	return fmt.Errorf("judgement: not none, spam or ham")
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// spamFields are the schema's fields, in order.
var spamFields = []string{"body_sha256", "attachment_sha256", "picture_sha256", "sender_ips", "judgement"}

// ParseSpam reads a Spam body strictly: one JSON object with exactly the
// schema's fields, each once, of the right type (arrays not null), and
// values that Validate accepts. Errors name the field and never quote the
// body.
func ParseSpam(body []byte) (Spam, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return Spam{}, fmt.Errorf("body: not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Spam{}, fmt.Errorf("body: malformed JSON")
		}
		key, _ := tok.(string)
		if !slices.Contains(spamFields, key) {
			return Spam{}, fmt.Errorf("body: unknown field (a spam record has only %v)", spamFields)
		}
		if seen[key] {
			return Spam{}, fmt.Errorf("%s: given twice", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return Spam{}, fmt.Errorf("%s: malformed JSON", key)
		}
		want := byte('[')
		if key == "body_sha256" || key == "judgement" {
			want = '"'
		}
		if raw[0] != want {
			return Spam{}, fmt.Errorf("%s: must be %s", key, map[byte]string{'[': "an array of strings", '"': "a string"}[want])
		}
	}
	if _, err := dec.Token(); err != nil {
		return Spam{}, fmt.Errorf("body: malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Spam{}, fmt.Errorf("body: data after the object")
	}
	for _, f := range spamFields {
		if !seen[f] {
			return Spam{}, fmt.Errorf("%s: missing", f)
		}
	}
	var s Spam
	if err := json.Unmarshal(body, &s); err != nil {
		return Spam{}, fmt.Errorf("body: a field of the wrong type")
	}
	return s, s.Validate()
}
