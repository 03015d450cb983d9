package cli

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/linkcheck"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// linkPrinter prints the links of `ksn url` as they are checked (it is
// the link check's sink).
type linkPrinter struct {
	out           *bufio.Writer
	styles        *term.Styles
	json, explain bool
}

func (p *linkPrinter) Batch(links []linkcheck.Link) error {
	for _, l := range links {
		if p.json {
			if err := writeLinkJSON(p.out, l, p.explain); err != nil {
				return err
			}
		} else {
			writeLinkHuman(p.out, p.styles, l, p.explain)
		}
	}
	return p.out.Flush()
}

func writeLinkHuman(w io.Writer, s *term.Styles, l linkcheck.Link, explain bool) {
	if l.Err != nil {
		fmt.Fprintf(w, "%s%s  %s\n", s.Badge("error"), term.SafeText(l.Input), s.Dim.Render(l.Err.Error()))
		return
	}
	line := s.Badge(string(l.Result.Verdict)) + term.SafeText(l.Canonical.URL)
	if l.Result.ThreatName != "" {
		line += "  " + s.Bold.Render(term.SafeText(l.Result.ThreatName))
	}
	if len(l.Result.Sources) > 0 {
		line += "  " + s.Dim.Render("("+strings.Join(l.Result.Sources, ", ")+")")
	}
	fmt.Fprintln(w, line)
	writeDisagreements(w, s, l.Result.Disagreements)
	if !explain {
		return
	}
	c := l.Canonical
	fmt.Fprintf(w, "  canonical   %s\n", term.SafeText(c.URL))
	if removed := removedParts(c); removed != "" {
		fmt.Fprintf(w, "  removed     %s (never used, never sent)\n", removed)
	}
	fmt.Fprintf(w, "  expressions %d (SHA-256; * matched; only the first 4 bytes of the others than \"local\" are sent):\n", len(l.Lookup.Entries))
	for _, e := range l.Lookup.Entries {
		mark, local := " ", ""
		if slices.Contains(l.Matched, e.Expression) {
			mark = "*"
		}
		if e.Local {
			local = "  (local: it holds a query or a token)"
		}
		fmt.Fprintf(w, "   %s %s  %s%s\n", mark, e.Full, term.SafeText(e.Expression), local)
	}
	var ps []string
	for _, p := range l.Lookup.Prefixes {
		ps = append(ps, p.String())
	}
	noun := "prefixes"
	if len(ps) == 1 {
		noun = "prefix"
	}
	fmt.Fprintf(w, "  lookup      would send %d %s: %s\n", len(ps), noun, strings.Join(ps, " "))
	fmt.Fprintf(w, "  submission  would carry %s\n", term.SafeText(urlcanon.Redact(c)))
}

// removed lists what canonicalisation dropped from the input, by the
// names --json gives them ("userinfo", "port", "fragment").
func removed(c urlcanon.Canonical) []string {
	parts := []string{}
	if c.HadUserinfo {
		parts = append(parts, "userinfo")
	}
	if c.Port != "" {
		parts = append(parts, "port")
	}
	if c.HadFragment {
		parts = append(parts, "fragment")
	}
	return parts
}

// removedParts says in words what canonicalisation dropped.
func removedParts(c urlcanon.Canonical) string {
	words := map[string]string{"userinfo": "user name and password", "port": "port " + c.Port, "fragment": "fragment"}
	parts := removed(c)
	for i, p := range parts {
		parts[i] = words[p]
	}
	return strings.Join(parts, ", ")
}

// linkJSON is the documented NDJSON schema of `ksn url --json` (README,
// "JSON output of ksn url"). Fields are only ever added.
type linkJSON struct {
	Input     string     `json:"input"`
	Status    string     `json:"status"` // ok or error
	URL       string     `json:"url,omitempty"`
	Verdict   string     `json:"verdict,omitempty"`
	Threat    string     `json:"threat,omitempty"`
	Category  string     `json:"category,omitempty"`
	Sources   []string   `json:"sources,omitempty"`
	FirstSeen *time.Time `json:"first_seen,omitempty"`
	LastSeen  *time.Time `json:"last_seen,omitempty"`
	Matched   []string   `json:"matched,omitempty"`
	// Disagreements are network answers lower than the verdict.
	Disagreements []disagreementJSON `json:"disagreements,omitempty"`
	Error         string             `json:"error,omitempty"`
	Explain       *explainJSON       `json:"explain,omitempty"`
}

type explainJSON struct {
	Canonical   string           `json:"canonical"`
	Removed     []string         `json:"removed"`
	Expressions []expressionJSON `json:"expressions"`
	Prefixes    []string         `json:"prefixes"`
	Submission  string           `json:"submission"`
}

type expressionJSON struct {
	Expression string `json:"expression"`
	SHA256     string `json:"sha256"`
	Prefix     string `json:"prefix"`
	Local      bool   `json:"local"` // matched locally only; its prefix is never sent
}

func writeLinkJSON(w io.Writer, l linkcheck.Link, explain bool) error {
	j := linkJSON{Input: l.Input, Status: "ok"}
	if l.Err != nil {
		j.Status, j.Error = "error", l.Err.Error()
	} else {
		r := l.Result
		j.URL, j.Verdict, j.Threat, j.Category, j.Sources, j.Matched = l.Canonical.URL, string(r.Verdict), r.ThreatName, r.Category, r.Sources, l.Matched
		j.FirstSeen, j.LastSeen = optUTC(r.FirstSeen), optUTC(r.LastSeen)
		j.Disagreements = disagreementsOut(r.Disagreements)
		if explain {
			c := l.Canonical
			x := &explainJSON{Canonical: c.URL, Removed: removed(c), Submission: urlcanon.Redact(c)}
			for _, e := range l.Lookup.Entries {
				x.Expressions = append(x.Expressions, expressionJSON{e.Expression, hex.EncodeToString(e.Full[:]), e.Prefix.String(), e.Local})
			}
			for _, p := range l.Lookup.Prefixes {
				x.Prefixes = append(x.Prefixes, p.String())
			}
			j.Explain = x
		}
	}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func optUTC(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
