package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

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
	if r.opts.Quiet && (c.Status() != "ok" || c.Reputation.Verdict.Severity() < r.opts.FailOn.Severity()) {
		return nil
	}
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
		fmt.Fprintf(r.out, "%s%s  %s\n", s.Badge("error"), path, s.Dim.Render(term.SafeText(c.Err.Error())))
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
		if c.RaisedBy != "" {
			line += "  " + s.Dim.Render("· in "+term.SafeText(c.RaisedBy))
		}
		fmt.Fprintln(r.out, line)
		writeDisagreements(r.out, s, rep.Disagreements)
	}
}

func (r *reporter) json(c check.Item) error {
	b, err := json.Marshal(c.Record())
	if err != nil {
		return err
	}
	_, err = r.out.Write(append(b, '\n'))
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
	_, err := io.WriteString(r.out, c.SumLine(r.opts.Format))
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
	// A directory named without -r is not a file: it is said apart.
	parts := []string{plural(sum.Files-sum.Directories, "file")}
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
	if n := sum.Failed - sum.Directories; n > 0 {
		parts = append(parts, fmt.Sprintf("%d unreadable", n))
	}
	if sum.Directories > 0 {
		parts = append(parts, plural(sum.Directories, "directory")+" not read (use -r)")
	}
	read := fmt.Sprintf("%s in %s", term.Bytes(sum.Bytes), term.Duration(sum.Elapsed))
	if sum.Bytes > 0 {
		read += " (" + term.Rate(sum.Bytes, sum.Elapsed) + ")"
	}
	fmt.Fprintf(r.out, "%s · %d hashed, %d unchanged · %s\n", strings.Join(parts, ", "), sum.Hashed, sum.Unchanged, read)
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
