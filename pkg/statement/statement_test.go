package statement

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBuiltin(t *testing.T) {
	st := Builtin()
	file, err := os.ReadFile("statement.txt")
	if err != nil {
		t.Fatal(err)
	}
	if st.Text != string(file) {
		t.Fatal("Builtin().Text is not statement.txt")
	}
	sum := sha256.Sum256(file)
	want := hex.EncodeToString(sum[:])
	if st.SHA256 != want {
		t.Errorf("SHA256 = %s, want %s", st.SHA256, want)
	}
	if st.ID != "ksn-"+want[:16] {
		t.Errorf("ID = %s, want ksn-%s", st.ID, want[:16])
	}
	if st.Source != "built-in" {
		t.Errorf("Source = %q", st.Source)
	}
	if Builtin() != st {
		t.Error("Builtin() differs between calls")
	}
}

func TestBuiltinSaysWhatMatters(t *testing.T) {
	// Words only, one space between them: a phrase may be wrapped.
	text := strings.ToLower(strings.Join(strings.Fields(Builtin().Text), " "))
	for _, point := range []string{
		"voluntary",
		"ksn optout", "immediately", "without a network connection",
		"basic", "extended", "default",
		"never collected", "file contents", "file paths", "user names", "name of this computer", "mac or ip addresses of this computer", "query", "credentials",
		"digests", "size", "verdict", "time spent",
		"scheme, host and path", "operating system", "memory rounded", "received headers",
		"outbox", "ksn queue", "ksn queue clear", "as soon as you begin to participate", "maximum age",
		"encrypted", "half-year", "twice a year", "destroyed", "deleted", "aggregate",
		"random identifier", "counted once", "no identifier of this installation",
		"participant code", "never leaves this computer", "changes every half-year", "cannot be linked",
		"key is destroyed", "no participant code", "how many participants",
	} {
		if !strings.Contains(text, point) {
			t.Errorf("the statement does not mention %q", point)
		}
	}
}

// The statement is shown on a terminal: plain text, wrapped at 76
// columns, short enough to read before answering.
func TestBuiltinShape(t *testing.T) {
	text := Builtin().Text
	if !utf8.ValidString(text) || !strings.HasSuffix(text, "\n") || strings.Contains(text, "\t") || strings.Contains(text, "\r") {
		t.Error("the statement is not plain UTF-8 text ending in a newline, without tabs or CRs")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	// 80: the public services it names (issue 15) took it past 70.
	if len(lines) < 40 || len(lines) > 80 {
		t.Errorf("%d lines, want 40-80", len(lines))
	}
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > 76 {
			t.Errorf("line %d has %d columns: %q", i+1, n, l)
		}
		if strings.TrimRight(l, " ") != l {
			t.Errorf("line %d has trailing space", i+1)
		}
	}
}

func TestNew(t *testing.T) {
	a := New("ksn-2025-1", "text A", "https://ksn.example/v1/statement")
	sum := sha256.Sum256([]byte("text A"))
	if a.ID != "ksn-2025-1" || a.SHA256 != hex.EncodeToString(sum[:]) || a.Text != "text A" || a.Source != "https://ksn.example/v1/statement" {
		t.Errorf("New = %+v", a)
	}
	// Without an id, the id follows the text, byte for byte.
	b1 := New("", "text B", "x")
	b2 := New("", "text B ", "x")
	if b1.ID == b2.ID || !strings.HasPrefix(b1.ID, "ksn-") || len(b1.ID) != 4+16 {
		t.Errorf("derived ids %q and %q", b1.ID, b2.ID)
	}
}
