package server

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"
	"strings"

	"github.com/ksnproject/ksn/pkg/mail"
	"github.com/ksnproject/ksn/pkg/store"
)

// parseSpam checks a spam record's body with the client's own strict
// parser (mail.ParseSpam: exactly its five fields, each once, digests in
// lower-case hex, public sender addresses in canonical form, a known
// judgement), so that the server keeps nothing the statement does not
// name, and returns what the aggregates count: the body digest and the
// distinct sender networks.
func parseSpam(body []byte) (*store.SpamFacts, error) {
	s, err := mail.ParseSpam(body)
	if err != nil {
		// ParseSpam's errors name the field and never quote the body.
		msg := err.Error()
		if field, detail, ok := strings.Cut(msg, ": "); ok {
			if field == "body" {
				field = ""
			}
			return nil, fieldErr(field, "%s", detail)
		}
		return nil, fieldErr("", "%s", msg)
	}
	facts := &store.SpamFacts{Judgement: string(s.Judgement)}
	if s.BodySHA256 != "" {
		b, err := hex.DecodeString(s.BodySHA256)
		if err != nil || len(b) != sha256.Size {
			return nil, fieldErr("body_sha256", "must be 64 lower-case hex characters")
		}
		d := [32]byte(b)
		facts.Body = &d
	}
	for _, ip := range s.SenderIPs {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, fieldErr("sender_ips", "not an address")
		}
		if n := store.SpamNet(a); !slices.Contains(facts.Nets, n) {
			facts.Nets = append(facts.Nets, n)
		}
	}
	return facts, nil
}
