package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/linkcheck"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// LinkOptions are what the link printer needs of `ksn url`'s flags.
type LinkOptions struct {
	JSON    bool // one JSON object per link (NDJSON)
	Explain bool // what a lookup and a submission would send, under each link
	Quiet   bool // only links at or above FailOn
	FailOn  reputation.Verdict
}

// Links prints the links of `ksn url` as they are checked (it is the link
// check's sink).
type Links struct {
	o      LinkOptions
	out    *bufio.Writer
	styles *term.Styles
}

// NewLinks returns the link printer that writes to ios.
func NewLinks(ios *term.IOStreams, o LinkOptions) *Links {
	return &Links{o: o, out: bufio.NewWriter(ios.Out), styles: ios.Styles()}
}

// Batch prints a batch of checked links and flushes.
func (p *Links) Batch(links []linkcheck.Link) error {
	for _, l := range links {
		if p.o.Quiet && (l.Err != nil || l.Result.Verdict.Severity() < p.o.FailOn.Severity()) {
			continue
		}
		if p.o.JSON {
			// One line per link: an Encoder ends each with a newline.
			if err := json.NewEncoder(p.out).Encode(l.Record(p.o.Explain)); err != nil {
				return err
			}
		} else {
			writeLink(p.out, p.styles, l, p.o.Explain)
		}
	}
	return p.out.Flush()
}

// Finish returns the run's exit: a threat first (1, silent), then links
// that could not be checked (2).
func (p *Links) Finish(sum linkcheck.Summary) error {
	switch {
	case sum.Threats > 0:
		return exitcode.Silent(exitcode.Threat)
	case sum.Failed > 0:
		return exitcode.New(exitcode.Usage, "%s could not be checked", Plural(sum.Failed, "link"))
	}
	return nil
}

func writeLink(w io.Writer, s *term.Styles, l linkcheck.Link, explain bool) {
	if l.Err != nil {
		fmt.Fprintf(w, "%s%s  %s\n", s.Badge("error"), term.SafeText(l.Input), s.Dim.Render(term.SafeText(l.Err.Error())))
		return
	}
	fmt.Fprintln(w, s.Badge(string(l.Result.Verdict))+term.SafeText(l.Canonical.URL)+resultDetails(s, l.Result))
	writeDisagreements(w, s, l.Result.Disagreements)
	if explain {
		writeExplanation(w, l)
	}
}

// writeExplanation says what a lookup of l sends and what a submission
// would carry (--explain).
func writeExplanation(w io.Writer, l linkcheck.Link) {
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
