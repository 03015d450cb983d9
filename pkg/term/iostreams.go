package term

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	xterm "golang.org/x/term"

	"github.com/ksnproject/ksn/pkg/untrusted"
)

// IOStreams are a command's standard streams and what is known about them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY, stdoutTTY, stderrTTY bool
	noColor                        bool // NO_COLOR set or TERM=dumb
	forceColor                     bool // colour even where detection says none (tests)
	styles                         *Styles
	height                         func() int // terminal rows, 0 when unknown
	pager                          string     // command that pages long text
}

// System returns the process's streams with their terminal state detected.
func System() *IOStreams {
	isTTY := func(f *os.File) bool { return xterm.IsTerminal(int(f.Fd())) }
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		stdinTTY:  isTTY(os.Stdin),
		stdoutTTY: isTTY(os.Stdout),
		stderrTTY: isTTY(os.Stderr),
		// https://no-color.org: any non-empty value disables colour.
		noColor: os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb",
		height: func() int {
			_, h, err := xterm.GetSize(int(os.Stdout.Fd()))
			if err != nil {
				return 0
			}
			return h
		},
		pager: os.Getenv("PAGER"),
	}
}

// Test returns streams backed by buffers; no stream is a terminal until a
// Set*TTY call says so.
func Test() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetStdinTTY, SetStdoutTTY and SetStderrTTY override detection (tests).
func (s *IOStreams) SetStdinTTY(v bool)  { s.stdinTTY = v }
func (s *IOStreams) SetStdoutTTY(v bool) { s.stdoutTTY = v; s.styles = nil }
func (s *IOStreams) SetStderrTTY(v bool) { s.stderrTTY = v }

// IsStdinTTY reports whether standard input is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether standard error is a terminal; progress is
// shown only then.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// ForceColor makes stdout a colour terminal, whatever the buffer behind
// it is: tests of what a user sees on one.
func (s *IOStreams) ForceColor() { s.stdoutTTY, s.forceColor, s.styles = true, true, nil }

// ColorEnabled reports whether stdout gets colour: only on a terminal, and
// never with NO_COLOR or TERM=dumb.
func (s *IOStreams) ColorEnabled() bool { return s.stdoutTTY && !s.noColor }

// Styles returns the styles bound to stdout's capabilities.
func (s *IOStreams) Styles() *Styles {
	if s.styles == nil {
		r := lipgloss.NewRenderer(s.Out)
		switch {
		case s.forceColor:
			r.SetColorProfile(termenv.ANSI256)
		case !s.ColorEnabled():
			r.SetColorProfile(termenv.Ascii)
		}
		s.styles = newStyles(r, s.ColorEnabled())
	}
	return s.styles
}

// Page shows text, through a pager when stdout is a terminal and the text
// is taller than it: $PAGER, else "less -FRX". Without a terminal, or when
// the pager cannot start, the text is written as it is.
func (s *IOStreams) Page(text string) error {
	rows := 0
	if s.stdoutTTY && s.height != nil {
		rows = s.height()
	}
	if rows == 0 || strings.Count(text, "\n") < rows-2 {
		_, err := io.WriteString(s.Out, text)
		return err
	}
	pager := s.pager
	if pager == "" {
		pager = "less -FRX"
	}
	args := strings.Fields(pager)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin = strings.NewReader(text)
	cmd.Stdout, cmd.Stderr = s.Out, s.ErrOut
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); ok {
			return nil // the user quit the pager
		}
		_, err := io.WriteString(s.Out, text)
		return err
	}
	return nil
}

// Errorf prints a diagnostic in the form every ksn message takes:
// "ksn: <what went wrong>: <why>".
func (s *IOStreams) Errorf(format string, args ...any) {
	fmt.Fprintf(s.ErrOut, "ksn: %s\n", safeMessage(fmt.Sprintf(format, args...)))
}

// Warnf prints a warning: something was not done, the run went on.
func (s *IOStreams) Warnf(format string, args ...any) {
	fmt.Fprintf(s.ErrOut, "ksn: warning: %s\n", safeMessage(fmt.Sprintf(format, args...)))
}

// Hint prints the line that follows a diagnostic and names the fix.
func (s *IOStreams) Hint(text string) {
	if text != "" {
		fmt.Fprintf(s.ErrOut, "ksn: hint: %s\n", safeMessage(text))
	}
}

// safeMessage is the last line of defence for diagnostics, which may
// quote a server or a file: whatever a caller forgot to escape is shown
// escaped, line by line (a message may span lines on purpose).
func safeMessage(m string) string {
	lines := strings.Split(m, "\n")
	for i, l := range lines {
		parts := strings.Split(l, "\t")
		for j, p := range parts {
			parts[j] = untrusted.Text(p, 0)
		}
		lines[i] = strings.Join(parts, "\t")
	}
	return strings.Join(lines, "\n")
}

// SafeText makes untrusted text (file names, feed fields) safe to print on a
// terminal: control characters, which could move the cursor or rewrite the
// screen, and bidi and zero-width characters, which could reorder or hide
// what is shown, are shown escaped. Ordinary text, including non-ASCII, is
// kept.
func SafeText(s string) string {
	clean := true
	for _, r := range s {
		if untrusted.Suspect(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	q := fmt.Sprintf("%+q", s)
	// Keep the escapes but drop the quotes %q adds, unless the name itself
	// would then be ambiguous with one that really contains quotes.
	if !strings.ContainsRune(s, '"') {
		q = q[1 : len(q)-1]
	}
	return q
}
