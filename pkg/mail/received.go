package mail

import (
	"fmt"
	"net/mail"
	"net/netip"
	"strings"

	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// ParseReceived returns the addresses of the client in one Received
// header's "from" clause (RFC 5321 §4.4), in the order written. The
// clause runs from the first "from" outside comments to the first "by",
// "via", "with", "id" or "for" outside comments, or ";".
//
// Servers write the client's address in a comment, the TCP-info
// (Postfix "from helo (rdns [1.2.3.4])", Sendmail's "(user@rdns
// [1.2.3.4] (may be forged))", qmail's "(HELO x) (1.2.3.4)", Exchange's
// "(2001:db8::1)"), while the words outside it are the name the client
// gave in HELO, which it may have made up: so the addresses in comments
// win, and those outside are taken only when no comment has one (Exim's
// "from [1.2.3.4] (helo=x)", or "from [IPv6:2001:db8::1]"). A name given
// with helo=, ehlo=, HELO or EHLO inside a comment is the client's claim
// and is skipped. Addresses are in brackets or bare, IPv6 with or without
// "IPv6:", possibly with a port; IPv4-mapped IPv6 is given as IPv4.
func ParseReceived(value string) []netip.Addr {
	var inComment, outside []netip.Addr
	depth := 0
	started := false
	skipNext := false
	for i := 0; i < len(value); {
		c := value[i]
		switch {
		case c == '(':
			depth++
			i++
			continue
		case c == ')':
			depth = max(depth-1, 0)
			skipNext = false
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ']':
			i++ // a stray ']' too: it starts no word
			continue
		case c == ';' && depth == 0:
			i = len(value)
			continue
		}
		var tok string
		if c == '[' {
			end := strings.IndexByte(value[i:], ']')
			if end < 0 {
				end = len(value) - i
			}
			tok, i = value[i+1:i+end], i+end+1
		} else {
			j := i
			for j < len(value) && !strings.ContainsRune(" \t\r\n()[];", rune(value[j])) {
				j++
			}
			j = max(j, i+1) // a ';' in a comment is a word of its own
			tok, i = value[i:j], j
		}
		word := strings.ToLower(tok)
		if depth == 0 && c != '[' {
			switch {
			case word == "from" && !started:
				started = true
				continue
			case started && (word == "by" || word == "via" || word == "with" || word == "id" || word == "for"):
				i = len(value)
				continue
			}
		}
		if !started {
			continue
		}
		if depth > 0 {
			if skipNext {
				skipNext = false
				continue
			}
			if word == "helo" || word == "ehlo" || word == "helo=" || word == "ehlo=" {
				skipNext = true
				continue
			}
			if strings.HasPrefix(word, "helo=") || strings.HasPrefix(word, "ehlo=") {
				continue
			}
		}
		if a, ok := parseAddr(tok); ok {
			if depth > 0 {
				inComment = append(inComment, a)
			} else {
				outside = append(outside, a)
			}
		}
	}
	if len(inComment) > 0 {
		return inComment
	}
	return outside
}

// parseAddr reads an address as Received headers write it.
func parseAddr(tok string) (netip.Addr, bool) {
	if len(tok) >= 5 && strings.EqualFold(tok[:5], "ipv6:") {
		tok = tok[5:]
	}
	tok = strings.TrimRight(tok, ".,")
	if len(tok) < 2 || !strings.ContainsAny(tok, ".:") {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(tok)
	if err != nil {
		ap, err := netip.ParseAddrPort(tok)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap(), true
}

// Relays are the user's own mail servers (addresses and CIDR ranges),
// whose addresses in Received headers are not a sender's.
type Relays []netip.Prefix

// ParseRelays reads relays given as addresses ("192.0.2.1") or ranges
// ("198.51.100.0/24", "2001:db8::/32").
func ParseRelays(list []string) (Relays, error) {
	var r Relays
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			r = append(r, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("relay %q is neither an address nor a CIDR range", s)
		}
		a = a.Unmap().WithZone("")
		r = append(r, netip.PrefixFrom(a, a.BitLen()))
	}
	return r, nil
}

// Contains reports whether a is one of the relays.
func (r Relays) Contains(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range r {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// MaxSenderIPs bounds the sender addresses of one message: real chains
// have a handful of hops, and a forged chain should not fill a record.
const MaxSenderIPs = 32

// SenderIPs returns the public addresses of the Received chain in h,
// the user's own relays left out, each once, starting from the hop
// nearest the sender (the last Received header; servers add theirs on
// top), at most MaxSenderIPs. The hops below the user's relays are the
// sender's word and may be forged; a reader that wants only the address
// that handed the message to the user's relays takes the last one.
//
// A hop that records an authenticated submission ("with ESMTPSA", RFC
// 3848) is left out too: its client is a mail user at their own
// computer, in mail the user sent themselves the user, whose address
// the statement promises never to collect. A spammer's such hop is lost
// with it; the relay it handed the message to still counts.
func SenderIPs(h mail.Header, own Relays) []netip.Addr {
	received := h["Received"]
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	for i := len(received) - 1; i >= 0 && len(out) < MaxSenderIPs; i-- {
		if authenticatedSubmission(received[i]) {
			continue
		}
		for _, a := range ParseReceived(received[i]) {
			a = a.WithZone("")
			if urlcanon.PublicAddr(a) && !own.Contains(a) && !seen[a] && len(out) < MaxSenderIPs {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// authenticatedProtocols are RFC 3848's "with" values of a submission
// whose client authenticated (the "A" in ESMTPA, ESMTPSA, ...).
var authenticatedProtocols = map[string]bool{
	"ESMTPA": true, "ESMTPSA": true, "LMTPA": true, "LMTPSA": true,
	"UTF8SMTPA": true, "UTF8SMTPSA": true, "UTF8LMTPA": true, "UTF8LMTPSA": true,
}

// authenticatedSubmission reports whether a Received header's "with"
// clause, outside comments, names an authenticated protocol.
func authenticatedSubmission(value string) bool {
	depth, afterWith := 0, false
	for _, word := range strings.FieldsFunc(value, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }) {
		for len(word) > 0 && word[0] == '(' {
			depth++
			word = word[1:]
		}
		closes := strings.Count(word, ")")
		word = strings.TrimRight(strings.TrimSuffix(word, ";"), ")")
		if depth == 0 && word != "" {
			if afterWith {
				return authenticatedProtocols[strings.ToUpper(word)]
			}
			afterWith = strings.EqualFold(word, "with")
		}
		depth = max(depth-closes, 0)
	}
	return false
}
