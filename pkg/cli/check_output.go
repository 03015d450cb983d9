package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/check"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/term"
)

// reporter prints results as they come (it is the check's sink) and
// decides the exit code at the end.
type reporter struct {
	opts     *CheckOptions
	out      *bufio.Writer
	styles   *term.Styles
	progress *term.Progress // nil: no progress line
}

func newReporter(opts *CheckOptions, progress *term.Progress) *reporter {
	return &reporter{
		opts:     opts,
		out:      bufio.NewWriterSize(opts.IO.Out, 64<<10),
		styles:   opts.IO.Styles(),
		progress: progress,
	}
}

// Batch prints a lookup batch around the progress line, and flushes: a
// line is on the screen as soon as its lookup is done.
func (r *reporter) Batch(items []check.Item) error {
	var err error
	print := func() {
		for _, it := range items {
			if err = r.add(it); err != nil {
				return
			}
		}
		err = r.out.Flush()
	}
	if r.progress != nil {
		r.progress.Around(print)
	} else {
		print()
	}
	return err
}

func (r *reporter) add(c check.Item) error {
	var err error
	switch {
	case r.opts.JSON:
		err = r.json(c)
	case r.opts.Format != "":
		err = r.sumLine(c)
	default:
		r.human(c)
	}
	if err != nil {
		return err
	}
	// Flush per batch boundary is the caller's rhythm; flushing here when
	// the buffer is mostly full keeps memory flat on huge runs.
	if r.out.Available() < 4<<10 {
		return r.out.Flush()
	}
	return nil
}

func (r *reporter) human(c check.Item) {
	s := r.styles
	path := term.SafeText(c.Path)
	switch c.Status() {
	case "skipped":
		fmt.Fprintf(r.out, "%s%s  %s\n", s.Badge("skipped"), path, s.Dim.Render(string(c.Skipped())))
	case "error":
		fmt.Fprintf(r.out, "%s%s  %s\n", s.Badge("error"), path, s.Dim.Render(c.Err.Error()))
	default:
		rep := c.Reputation
		line := s.Badge(string(rep.Verdict)) + path
		if rep.ThreatName != "" {
			line += "  " + s.Bold.Render(term.SafeText(rep.ThreatName))
		}
		if len(rep.Sources) > 0 {
			line += "  " + s.Dim.Render("("+strings.Join(rep.Sources, ", ")+")")
		}
		if n := rep.Prevalence; n > 0 {
			line += "  " + s.Dim.Render(seenBy(n))
		}
		fmt.Fprintln(r.out, line)
		writeDisagreements(r.out, s, rep.Disagreements)
	}
}

// jsonResult is the documented NDJSON schema of `ksn check --json` (see
// README, "JSON output"). Fields are only ever added, never renamed.
type jsonResult struct {
	Path      string            `json:"path"`
	Status    string            `json:"status"` // ok, skipped, error
	Size      *int64            `json:"size,omitempty"`
	Digests   map[string]string `json:"digests,omitempty"`
	Cached    *bool             `json:"cached,omitempty"` // digests from the stat cache
	Verdict   string            `json:"verdict,omitempty"`
	Threat    string            `json:"threat,omitempty"`
	Category  string            `json:"category,omitempty"`
	Sources   []string          `json:"sources,omitempty"`
	FirstSeen *time.Time        `json:"first_seen,omitempty"`
	LastSeen  *time.Time        `json:"last_seen,omitempty"`
	// Prevalence is how many participants reported it to the network.
	Prevalence int `json:"prevalence,omitempty"`
	// Disagreements are network answers lower than the verdict: shown,
	// not obeyed.
	Disagreements []disagreementJSON `json:"disagreements,omitempty"`
	Reason        string             `json:"reason,omitempty"` // why it was skipped
	Error         string             `json:"error,omitempty"`
	ElapsedMS     float64            `json:"elapsed_ms"`
}

func (r *reporter) json(c check.Item) error {
	j := jsonResult{Path: c.Path, Status: c.Status(), ElapsedMS: float64(c.Elapsed.Microseconds()) / 1000}
	switch j.Status {
	case "skipped":
		j.Reason = string(c.Skipped())
	case "error":
		j.Error = c.Err.Error()
	default:
		size, cached := c.Size, c.Cached
		j.Size, j.Cached = &size, &cached
		j.Digests = map[string]string{}
		for a := range c.Digests {
			j.Digests[string(a)] = c.Digests.Hex(a)
		}
		rep := c.Reputation
		j.Verdict, j.Threat, j.Category, j.Sources = string(rep.Verdict), rep.ThreatName, rep.Category, rep.Sources
		j.Prevalence, j.Disagreements = rep.Prevalence, disagreementsOut(rep.Disagreements)
		if !rep.FirstSeen.IsZero() {
			t := rep.FirstSeen.UTC()
			j.FirstSeen = &t
		}
		if !rep.LastSeen.IsZero() {
			t := rep.LastSeen.UTC()
			j.LastSeen = &t
		}
	}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = r.out.Write(b)
	return err
}

// seenBy says how many participants reported an object.
func seenBy(n int) string {
	if n == 1 {
		return "· seen by 1 participant"
	}
	return fmt.Sprintf("· seen by %d participants", n)
}

// sumLine prints a line that sha256sum -c or b3sum -c accepts. Those tools
// escape a name holding a backslash or a newline and mark the line with a
// leading backslash; ksn does the same so every name round-trips.
func (r *reporter) sumLine(c check.Item) error {
	if c.Err != nil {
		what := "could not be read"
		if c.Skipped() != "" {
			what = "skipped"
		}
		reason := c.Err.Error()
		if s := c.Skipped(); s != "" {
			reason = string(s)
		}
		r.opts.IO.Errorf("%s: %s: %s", term.SafeText(c.Path), what, reason)
		return nil
	}
	if c.Reputation.Verdict.Severity() >= r.opts.FailOn.Severity() {
		r.opts.IO.Warnf("%s: %s %s", term.SafeText(c.Path), c.Reputation.Verdict, term.SafeText(c.Reputation.ThreatName))
	}
	name, prefix := c.Path, ""
	if strings.ContainsAny(name, "\\\n") {
		name = strings.NewReplacer("\\", "\\\\", "\n", "\\n").Replace(name)
		prefix = "\\"
	}
	_, err := fmt.Fprintf(r.out, "%s%s  %s\n", prefix, c.Digests.Hex(check.SumFormats[r.opts.Format]), name)
	return err
}

func (r *reporter) finish(sum check.Summary) error {
	if !r.opts.JSON && r.opts.Format == "" {
		r.summary(sum)
	}
	if err := r.out.Flush(); err != nil {
		return err
	}
	switch {
	case sum.Threats > 0:
		return exitcode.Silent(exitcode.Threat)
	case sum.Failed > 0:
		noun := "inputs"
		if sum.Failed == 1 {
			noun = "input"
		}
		return exitcode.New(exitcode.Usage, "%d %s could not be checked", sum.Failed, noun)
	}
	return nil
}

func (r *reporter) summary(sum check.Summary) {
	s := r.styles
	noun := "files"
	if sum.Files == 1 {
		noun = "file"
	}
	parts := []string{fmt.Sprintf("%d %s", sum.Files, noun)}
	for _, v := range reputation.Verdicts {
		if n := sum.Verdicts[v]; n > 0 || v == reputation.Malicious {
			text := fmt.Sprintf("%d %s", n, v)
			if v == reputation.Malicious && n > 0 {
				text = s.Bad.Render(text)
			}
			parts = append(parts, text)
		}
	}
	if sum.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", sum.Skipped))
	}
	if sum.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d unreadable", sum.Failed))
	}
	read := fmt.Sprintf("%s in %s", term.Bytes(sum.Bytes), term.Duration(sum.Elapsed))
	if sum.Bytes > 0 {
		read += " (" + term.Rate(sum.Bytes, sum.Elapsed) + ")"
	}
	fmt.Fprintf(r.out, "%s · %d hashed, %d unchanged · %s\n", strings.Join(parts, ", "), sum.Hashed, sum.Unchanged, read)
}

// disagreementJSON is one entry of "disagreements" in --json output.
type disagreementJSON struct {
	Source  string `json:"source"`
	Verdict string `json:"verdict"`
	Threat  string `json:"threat,omitempty"`
}

func disagreementsOut(ds []reputation.Disagreement) []disagreementJSON {
	var out []disagreementJSON
	for _, d := range ds {
		out = append(out, disagreementJSON{Source: d.Source, Verdict: string(d.Verdict), Threat: d.ThreatName})
	}
	return out
}

// writeDisagreements notes, under a result, each network answer that was
// lower than the verdict and so was not obeyed.
func writeDisagreements(w io.Writer, s *term.Styles, ds []reputation.Disagreement) {
	for _, d := range ds {
		said := string(d.Verdict)
		if d.ThreatName != "" {
			said += " (" + term.SafeText(d.ThreatName) + ")"
		}
		fmt.Fprintln(w, s.Dim.Render("  note: "+d.Source+" says "+said+": a network answer never lowers a verdict"))
	}
}
