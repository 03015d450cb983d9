package store

import (
	"fmt"
	"net/netip"
	"time"
)

// Kinds of object in object_stats that spam records add (migration 00009):
// a message's normalised body, by its SHA-256, and a sender network.
const (
	ObjectSpamBody = "spam_body"
	ObjectSpamNet  = "spam_net"
)

// The judgements a spam record carries (pkg/mail.Judgement).
const (
	JudgementNone = "none"
	JudgementSpam = "spam"
	JudgementHam  = "ham"
)

// Sender networks are counted by these prefixes, not by address: a /24 or
// /48 is the unit mail reputation lists use, and it tells less about any
// one host.
const (
	SpamNetBits4 = 24
	SpamNetBits6 = 48
)

// MaxSpamNets bounds the sender networks of one record (the client sends at
// most 32 addresses, mail.MaxSenderIPs).
const MaxSpamNets = 32

// SpamFacts are what the aggregates keep of a spam record. The caller
// (pkg/server) parsed the body strictly with mail.ParseSpam.
type SpamFacts struct {
	// Body is the SHA-256 of the normalised body; nil when the message had
	// no body text.
	Body *[32]byte
	// Nets are the distinct networks (SpamNet) of its sender addresses.
	Nets []netip.Prefix
	// Judgement is JudgementNone, JudgementSpam or JudgementHam.
	Judgement string
}

// SpamNet returns the network a sender address is counted under.
func SpamNet(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := SpamNetBits6
	if a.Is4() {
		bits = SpamNetBits4
	}
	p, _ := a.Prefix(bits)
	return p
}

// check refuses facts the aggregates must not count: an unknown judgement,
// too many networks, a network that is not exactly what SpamNet makes.
func (f *SpamFacts) check() error {
	switch f.Judgement {
	case JudgementNone, JudgementSpam, JudgementHam:
	default:
		return fmt.Errorf("judgement %q", f.Judgement)
	}
	if len(f.Nets) > MaxSpamNets {
		return fmt.Errorf("%d sender networks", len(f.Nets))
	}
	for _, n := range f.Nets {
		if !n.IsValid() || SpamNet(n.Addr()) != n {
			return fmt.Errorf("sender network %v", n)
		}
	}
	return nil
}

// spamNetKey is a network as the 32-byte object of object_stats: the
// address in 16 bytes (IPv4 mapped), its prefix length, zeros.
func spamNetKey(p netip.Prefix) [32]byte {
	var k [32]byte
	a := p.Addr().As16()
	copy(k[:16], a[:])
	k[16] = byte(p.Bits())
	return k
}

// spamNetFromKey reverses spamNetKey.
func spamNetFromKey(k []byte) (netip.Prefix, error) {
	if len(k) != 32 {
		return netip.Prefix{}, fmt.Errorf("a sender network of %d bytes", len(k))
	}
	a := netip.AddrFrom16([16]byte(k[:16])).Unmap()
	p := netip.PrefixFrom(a, int(k[16]))
	if !p.IsValid() {
		return netip.Prefix{}, fmt.Errorf("a sender network of /%d", k[16])
	}
	return p, nil
}

// judgeDelta counts one batch's judgements of one object.
type judgeDelta struct{ spam, ham int64 }

// appendSpamObjects appends a spam record's objects: its body, if it has
// one, and each sender network.
func appendSpamObjects(dst []objectRef, f *SpamFacts) []objectRef {
	if f.Body != nil {
		dst = append(dst, objectRef{ObjectSpamBody, *f.Body})
	}
	for _, n := range f.Nets {
		dst = append(dst, objectRef{ObjectSpamNet, spamNetKey(n)})
	}
	return dst
}

// addSpam counts a spam record: a report of its body and of each sender
// network (each an object whose participants are counted like a file's),
// and its judgement of each.
func (a *batchAggregates) addSpam(f *SpamFacts) {
	for _, ref := range appendSpamObjects(make([]objectRef, 0, 1+len(f.Nets)), f) {
		a.object(ref.kind, ref.key)
		if f.Judgement == JudgementNone {
			continue
		}
		if a.judged == nil {
			a.judged = map[objectRef]*judgeDelta{}
		}
		d, ok := a.judged[ref]
		if !ok {
			d = &judgeDelta{}
			a.judged[ref] = d
		}
		if f.Judgement == JudgementSpam {
			d.spam++
		} else {
			d.ham++
		}
	}
}

// SpamStat is the aggregate of one message body or sender network: the
// rows of `ksn admin stats spam`, whose JSON form is documented there.
type SpamStat struct {
	// Object is the body's SHA-256 in hex, or the network ("203.0.113.0/24").
	Object       string    `json:"object"`
	Participants int64     `json:"participants"` // distinct per half-year, summed
	Reports      int64     `json:"reports"`      // records (checked or judged)
	Spam         int64     `json:"spam"`         // records judged spam
	Ham          int64     `json:"ham"`          // records judged not spam
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
}

// SpamStats are the spam aggregates most participants reported.
type SpamStats struct {
	Bodies []SpamStat `json:"bodies"`
	Nets   []SpamStat `json:"nets"`
}

// SpamOptions bound SpamStats.
type SpamOptions struct {
	Top             int // at most this many of each (0: none)
	MinParticipants int // only objects at least this many participants reported
}

// spamStatsSQL reads the top objects of one spam kind, with ? placeholders
// (kind, min participants, limit).
const spamStatsSQL = `SELECT o.object, o.participants, o.reports, coalesce(j.spam, 0), coalesce(j.ham, 0), o.first_day, o.last_day
FROM object_stats o LEFT JOIN spam_judgements j ON j.kind = o.kind AND j.object = o.object
WHERE o.kind = ? AND o.participants >= ?
ORDER BY o.participants DESC, o.reports DESC, o.object LIMIT ?`

// scanSpamStat reads one row of spamStatsSQL.
func scanSpamStat(kind string, r interface{ Scan(...any) error }) (SpamStat, error) {
	var st SpamStat
	var object []byte
	var first, last int64
	if err := r.Scan(&object, &st.Participants, &st.Reports, &st.Spam, &st.Ham, &first, &last); err != nil {
		return st, err
	}
	st.FirstSeen, st.LastSeen = unixTime(first), unixTime(last)
	if kind == ObjectSpamNet {
		p, err := spamNetFromKey(object)
		if err != nil {
			return st, err
		}
		st.Object = p.String()
	} else {
		st.Object = fmt.Sprintf("%x", object)
	}
	return st, nil
}

// MaxPrevalencePerPrefix bounds the reported links URLPrevalence returns
// for one hash prefix, the most reported first: an answer stays small
// however many links share a prefix.
const MaxPrevalencePerPrefix = 64

// addPrevalence records a link's count; an object of another length is no
// link hash (object_stats does not enforce the length).
func addPrevalence(out map[URLHash]int64, object []byte, n int64) {
	if len(object) == 32 {
		out[URLHash(object)] = n
	}
}

// prefixRange returns the first and last 32-byte object beginning with p.
func prefixRange(p URLPrefix) (lo, hi []byte) {
	lo, hi = make([]byte, 32), make([]byte, 32)
	copy(lo, p[:])
	copy(hi, p[:])
	for i := len(p); i < 32; i++ {
		hi[i] = 0xff
	}
	return lo, hi
}
