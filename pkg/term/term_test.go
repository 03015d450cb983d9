package term

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSafeText(t *testing.T) {
	cases := map[string]string{
		"plain/path.txt":  "plain/path.txt",
		"naïve café.pdf":  "naïve café.pdf",
		"evil\x1b[2Jname": `evil\x1b[2Jname`,
		"new\nline":       `new\nline`,
		"quote\"and\ttab": `"quote\"and\ttab"`,
		"bad\xffutf8":     `bad\xffutf8`,
		"c1\u009bcontrol": `c1\u009bcontrol`,
		"":                "",
	}
	for in, want := range cases {
		if got := SafeText(in); got != want {
			t.Errorf("SafeText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBadgePlainWithoutColour(t *testing.T) {
	ios, _, _, _ := Test()
	ios.SetStdoutTTY(true) // a terminal, but...
	ios.noColor = true     // ...NO_COLOR is set
	got := ios.Styles().Badge("malicious")
	if strings.Contains(got, "\x1b") || !strings.Contains(got, "MALICIOUS") {
		t.Fatalf("badge %q: want plain upper-case text", got)
	}
	ios.noColor = false
	ios.SetStdoutTTY(false) // a pipe
	if got := ios.Styles().Badge("clean"); strings.Contains(got, "\x1b") {
		t.Fatalf("badge in a pipe has escapes: %q", got)
	}
}

// lockedBuffer lets the test read what the progress goroutine writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Len() int { return len(l.String()) }

func TestProgressOnlyOnTerminal(t *testing.T) {
	ios, _, _, _ := Test()
	errOut := &lockedBuffer{}
	ios.ErrOut = errOut
	p := ios.StartProgress(0, func() string { return "working" })
	time.Sleep(50 * time.Millisecond)
	p.Stop()
	if errOut.Len() != 0 {
		t.Fatalf("progress written to a non-terminal: %q", errOut.String())
	}
	ios.SetStderrTTY(true)
	p = ios.StartProgress(0, func() string { return "working" })
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(errOut.String(), "working") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Output around the line finds it cleared first.
	p.Around(func() { errOut.Write([]byte("RESULT")) })
	if !strings.Contains(errOut.String(), "\r\x1b[KRESULT") {
		t.Errorf("output around the progress line did not clear it first: %q", errOut.String())
	}
	p.Stop()
	out := errOut.String()
	last := strings.LastIndex(out, "working")
	if last < 0 || !strings.Contains(out[last:], "\r\x1b[K") {
		t.Fatalf("progress on a terminal = %q: want the line, and cleared after its last drawing", out)
	}
}

func TestUnits(t *testing.T) {
	if got := Bytes(1536); got != "1.5 KiB" {
		t.Errorf("Bytes(1536) = %s", got)
	}
	if got := Bytes(3 << 30); got != "3.0 GiB" {
		t.Errorf("Bytes(3GiB) = %s", got)
	}
	if got := Rate(2<<20, time.Second); got != "2.0 MiB/s" {
		t.Errorf("Rate = %s", got)
	}
	if got := Duration(1500 * time.Millisecond); got != "1.50s" {
		t.Errorf("Duration = %s", got)
	}
}
