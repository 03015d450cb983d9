package linkcheck

import (
	"encoding/hex"
	"time"

	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// Record is the documented NDJSON schema of `ksn url --json` (README,
// "JSON output of ksn url"), one per link. Fields are only ever added.
type Record struct {
	Input         string                    `json:"input"`
	Status        string                    `json:"status"` // ok or error
	URL           string                    `json:"url,omitempty"`
	Verdict       string                    `json:"verdict,omitempty"`
	Threat        string                    `json:"threat,omitempty"`
	Category      string                    `json:"category,omitempty"`
	Sources       []string                  `json:"sources,omitempty"`
	FirstSeen     *time.Time                `json:"first_seen,omitempty"`
	LastSeen      *time.Time                `json:"last_seen,omitempty"`
	Matched       []string                  `json:"matched,omitempty"`
	Prevalence    int                       `json:"prevalence,omitempty"`    // participants who reported the link (network)
	Disagreements []reputation.Disagreement `json:"disagreements,omitempty"` // network answers lower than the verdict
	Unanswered    []string                  `json:"unanswered,omitempty"`    // sources that were asked and failed
	Error         string                    `json:"error,omitempty"`
	Explain       *Explain                  `json:"explain,omitempty"`
}

// Explain is what a lookup and a submission would send (--explain).
type Explain struct {
	Canonical   string       `json:"canonical"`
	Removed     []string     `json:"removed"`
	Expressions []Expression `json:"expressions"`
	Prefixes    []string     `json:"prefixes"`
	Submission  string       `json:"submission"`
}

// Expression is one expression of a link, its hash and prefix.
type Expression struct {
	Expression string `json:"expression"`
	SHA256     string `json:"sha256"`
	Prefix     string `json:"prefix"`
	Local      bool   `json:"local"` // matched locally only; its prefix is never sent
}

// Record returns l in the --json schema; with explain, what would be sent.
func (l Link) Record(explain bool) Record {
	j := Record{Input: l.Input, Status: "ok", Unanswered: l.Unanswered}
	if l.Err != nil {
		j.Status, j.Error = "error", l.Err.Error()
		return j
	}
	r := l.Result
	j.URL, j.Verdict, j.Threat, j.Category, j.Sources, j.Matched = l.Canonical.URL, string(r.Verdict), r.ThreatName, r.Category, r.Sources, l.Matched
	j.FirstSeen, j.LastSeen, j.Disagreements, j.Prevalence = optUTC(r.FirstSeen), optUTC(r.LastSeen), r.Disagreements, r.Prevalence
	if explain {
		c := l.Canonical
		x := &Explain{Canonical: c.URL, Removed: c.Removed()}
		if !c.Private() {
			x.Submission = urlcanon.Redact(c) // "" for a private link: never recorded
		}
		for _, e := range l.Lookup.Entries {
			x.Expressions = append(x.Expressions, Expression{e.Expression, hex.EncodeToString(e.Full[:]), e.Prefix.String(), e.Local})
		}
		for _, p := range l.Lookup.Prefixes {
			x.Prefixes = append(x.Prefixes, p.String())
		}
		j.Explain = x
	}
	return j
}

func optUTC(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
