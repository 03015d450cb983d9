package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ksnproject/ksn/pkg/linkcheck"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// linkPrinter prints the links of `ksn url` as they are checked (it is
// the link check's sink).
type linkPrinter struct {
	out           *bufio.Writer
	styles        *term.Styles
	json, explain bool
	quiet         bool // only links at or above failOn
	failOn        reputation.Verdict
}

func (p *linkPrinter) Batch(links []linkcheck.Link) error {
	for _, l := range links {
		if p.quiet && (l.Err != nil || l.Result.Verdict.Severity() < p.failOn.Severity()) {
			continue
		}
		if p.json {
			// One line per link: an Encoder ends each with a newline.
			if err := json.NewEncoder(p.out).Encode(l.Record(p.explain)); err != nil {
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
		fmt.Fprintf(w, "%s%s  %s\n", s.Badge("error"), term.SafeText(l.Input), s.Dim.Render(term.SafeText(l.Err.Error())))
		return
	}
	line := s.Badge(string(l.Result.Verdict)) + term.SafeText(l.Canonical.URL)
	if l.Result.ThreatName != "" {
		line += "  " + s.Bold.Render(term.SafeText(l.Result.ThreatName))
	}
	if len(l.Result.Sources) > 0 {
		line += "  " + s.Dim.Render("("+strings.Join(l.Result.Sources, ", ")+")")
	}
	if n := l.Result.Prevalence; n > 0 {
		line += "  " + s.Dim.Render(seenBy(n))
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
	if c.Private() {
		fmt.Fprintf(w, "  submission  none: a link to a private network is never recorded\n")
		return
	}
	fmt.Fprintf(w, "  submission  would carry %s\n", term.SafeText(urlcanon.Redact(c)))
}

// removedParts says in words what canonicalisation dropped.
func removedParts(c urlcanon.Canonical) string {
	words := map[string]string{"userinfo": "user name and password", "port": "port " + c.Port, "fragment": "fragment"}
	parts := c.Removed()
	for i, p := range parts {
		parts[i] = words[p]
	}
	return strings.Join(parts, ", ")
}
