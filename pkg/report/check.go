package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/check"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/term"
)

// CheckOptions are what the check reporter needs of `ksn check`'s flags.
type CheckOptions struct {
	JSON   bool   // one JSON object per input (NDJSON)
	Format string // "sha256sum" or "b3sum": checksum lines instead of verdicts
	Quiet  bool   // print only what is at or above FailOn
	FailOn reputation.Verdict
}

// Checks prints the results of a check as they come (it is the check's
// sink) and decides the exit code at the end.
type Checks struct {
	o        CheckOptions
	ios      *term.IOStreams
	out      *bufio.Writer
	styles   *term.Styles
	progress *term.Progress // nil: no progress line
}

// NewChecks returns the reporter of a check that writes to ios, around
// progress (nil for none).
func NewChecks(ios *term.IOStreams, o CheckOptions, progress *term.Progress) *Checks {
	return &Checks{o: o, ios: ios, out: bufio.NewWriterSize(ios.Out, 64<<10), styles: ios.Styles(), progress: progress}
}

// Batch prints a lookup batch around the progress line, and flushes: a
// line is on the screen as soon as its lookup is done.
func (r *Checks) Batch(items []check.Item) error {
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

func (r *Checks) add(c check.Item) error {
	if r.o.Quiet && (c.Status() != "ok" || c.Reputation.Verdict.Severity() < r.o.FailOn.Severity()) {
		return nil
	}
	var err error
	switch {
	case r.o.JSON:
		err = r.json(c)
	case r.o.Format != "":
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

func (r *Checks) human(c check.Item) {
	s := r.styles
	path := term.SafeText(c.Path)
	switch c.Status() {
	case "skipped":
		fmt.Fprintf(r.out, "%s%s  %s\n", s.Badge("skipped"), path, s.Dim.Render(string(c.Skipped())))
	case "error":
		fmt.Fprintf(r.out, "%s%s  %s\n", s.Badge("error"), path, s.Dim.Render(term.SafeText(c.Err.Error())))
	default:
		line := s.Badge(string(c.Reputation.Verdict)) + path + resultDetails(s, c.Reputation)
		if c.RaisedBy != "" {
			line += "  " + s.Dim.Render("· in "+term.SafeText(c.RaisedBy))
		}
		fmt.Fprintln(r.out, line)
		writeDisagreements(r.out, s, c.Reputation.Disagreements)
	}
}

// resultDetails is what follows the badge and the name of a result: the
// threat name, the sources that said so and how many participants
// reported it.
func resultDetails(s *term.Styles, rep reputation.Result) string {
	line := ""
	if rep.ThreatName != "" {
		line += "  " + s.Bold.Render(term.SafeText(rep.ThreatName))
	}
	if len(rep.Sources) > 0 {
		line += "  " + s.Dim.Render("("+strings.Join(rep.Sources, ", ")+")")
	}
	if n := rep.Prevalence; n > 0 {
		line += "  " + s.Dim.Render(seenBy(n))
	}
	return line
}

func (r *Checks) json(c check.Item) error {
	b, err := json.Marshal(c.Record())
	if err != nil {
		return err
	}
	_, err = r.out.Write(append(b, '\n'))
	return err
}

// sumLine prints a line that sha256sum -c or b3sum -c accepts. Those tools
// escape a name holding a backslash or a newline and mark the line with a
// leading backslash; ksn does the same so every name round-trips.
func (r *Checks) sumLine(c check.Item) error {
	if c.Err != nil {
		what, reason := "could not be read", c.Err.Error()
		if s := c.Skipped(); s != "" {
			what, reason = "skipped", string(s)
		}
		r.ios.Errorf("%s: %s: %s", term.SafeText(c.Path), what, reason)
		return nil
	}
	if c.Reputation.Verdict.Severity() >= r.o.FailOn.Severity() {
		r.ios.Warnf("%s: %s %s", term.SafeText(c.Path), c.Reputation.Verdict, term.SafeText(c.Reputation.ThreatName))
	}
	_, err := io.WriteString(r.out, c.SumLine(r.o.Format))
	return err
}

// Finish ends a run whose lookups all ran: it prints the summary (not in
// JSON or checksum lines) and returns the run's exit: a threat first (1,
// silent), then inputs that could not be checked (2), then netErr, the
// network's failure (3 to 7), which is still mentioned when it does not
// decide.
func (r *Checks) Finish(sum check.Summary, netErr error) error {
	err := r.end(sum)
	if err != nil && netErr != nil {
		r.ios.Warnf("%v; %s had no network verdict (--json marks them \"unanswered\")", netErr, Plural(sum.Unanswered, "file"))
	}
	if err != nil || netErr == nil {
		return err
	}
	return netErr
}

// Stopped ends a run that stopped on runErr: what was found is still
// reported, and a threat still decides the exit code (1 before 2).
func (r *Checks) Stopped(sum check.Summary, runErr error) error {
	if err := r.end(sum); exitcode.Of(err) == exitcode.Threat {
		r.ios.Errorf("%v", runErr)
		return err
	}
	var ec *exitcode.Error
	if errors.As(runErr, &ec) {
		return ec
	}
	return &exitcode.Error{Code: exitcode.Usage, Err: runErr}
}

func (r *Checks) end(sum check.Summary) error {
	if !r.o.JSON && r.o.Format == "" {
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

func (r *Checks) summary(sum check.Summary) {
	s := r.styles
	// A directory named without -r is not a file: it is said apart.
	parts := []string{Plural(sum.Files-sum.Directories, "file")}
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
		parts = append(parts, Plural(sum.Directories, "directory")+" not read (use -r)")
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

// StartCheckProgress shows on ios the progress of a check (after
// term.ProgressDelay), counted in the Progress it returns.
func StartCheckProgress(ios *term.IOStreams) (*check.Progress, *term.Progress) {
	counts, start := &check.Progress{}, time.Now()
	return counts, ios.StartProgress(term.ProgressDelay, func() string { return CheckProgress(counts, time.Since(start)) })
}

// CheckProgress is the progress line of a check elapsed into it: it moves
// as bytes are read, and gives an ETA once the total is known.
func CheckProgress(p *check.Progress, elapsed time.Duration) string {
	b := p.Bytes.Load()
	line := fmt.Sprintf("checking: %d files, %s, %s", p.Files.Load(), term.Bytes(b), term.Rate(b, elapsed))
	if u := p.Unchanged.Load(); u > 0 {
		line += fmt.Sprintf(", %d unchanged", u)
	}
	if eta, ok := p.ETA(elapsed); ok {
		line += ", about " + etaText(eta) + " left"
	}
	return line
}

// etaText is a time left in whole seconds: an estimate, not a measure.
func etaText(d time.Duration) string {
	d = max(d.Round(time.Second), time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	return term.Duration(d)
}
