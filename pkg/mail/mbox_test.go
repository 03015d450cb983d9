package mail

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// messages splits an mbox, reading every message whole.
func messages(t *testing.T, r io.Reader) []string {
	t.Helper()
	mb := NewMbox(r)
	var out []string
	for {
		m, err := mb.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if m.Number != len(out)+1 {
			t.Fatalf("message %d numbered %d", len(out)+1, m.Number)
		}
		b, err := io.ReadAll(m)
		if err != nil {
			t.Fatalf("message %d: %v", m.Number, err)
		}
		out = append(out, string(b))
	}
}

func TestMboxSplit(t *testing.T) {
	long := strings.Repeat("z", 200<<10)
	tests := []struct {
		name, mbox string
		want       []string
	}{
		{"empty", "", nil},
		{"blank lines only", "\n\r\n\n", nil},
		{"one message, no separator", "A: 1\n\nbody\n", []string{"A: 1\n\nbody\n"}},
		{"two messages", "From a@b Thu Jan  4 10:00:00 2024\nA: 1\n\none\n\nFrom c@d Thu Jan  4 11:00:00 2024\nA: 2\n\ntwo\n\n",
			[]string{"A: 1\n\none\n", "A: 2\n\ntwo\n"}},
		{"a body ending in a blank line keeps it", "From a 10:00\nA: 1\n\none\n\n\nFrom b 10:00\nA: 2\n\n",
			[]string{"A: 1\n\none\n\n", "A: 2\n"}},
		{"mboxrd quoting", "From a 10:00\nA: 1\n\n>From here\n>>From there\n>Fromage\n> From x\nFrom the start, 1999\n",
			[]string{"A: 1\n\nFrom here\n>From there\n>Fromage\n> From x\nFrom the start, 1999\n"}},
		{"a last message without a newline", "From a 10:00\nA: 1\n\none\n\nFrom b 10:00\nA: 2\n\nno newline",
			[]string{"A: 1\n\none\n", "A: 2\n\nno newline"}},
		{"CRLF", "From a 10:00\r\nA: 1\r\n\r\none\r\n\r\nFrom b 10:00\r\nA: 2\r\n\r\n",
			[]string{"A: 1\r\n\r\none\r\n", "A: 2\r\n"}},
		{"no blank line before the separator", "From a 10:00\nA: 1\n\none\nFrom b 10:00\nA: 2\n",
			[]string{"A: 1\n\none\n", "A: 2\n"}},
		{"leading blank lines", "\n\nFrom a 10:00\nA: 1\n", []string{"A: 1\n"}},
		{"an empty message between two", "From a 10:00\nA: 1\n\nFrom b 10:00\nFrom c 10:00\nA: 3\n",
			[]string{"A: 1\n", "", "A: 3\n"}},
		{"a line longer than the buffer", "From a 10:00\nA: " + long + "\nFrom b 10:00\nX: From c 10:00\n",
			[]string{"A: " + long + "\n", "X: From c 10:00\n"}},
		{"a long line starting >From", "From a 10:00\n>From " + long + "\n",
			[]string{"From " + long + "\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tt.mbox), iotest.OneByteReader(strings.NewReader(tt.mbox))} {
				if got := messages(t, r); !slices.Equal(got, tt.want) {
					t.Errorf("messages\n %.200q\nwant\n %.200q", got, tt.want)
				}
			}
		})
	}
}

// TestMboxNextSkipsUnread: Next skips what was not read, and an old
// message reads nothing more.
func TestMboxNextSkipsUnread(t *testing.T) {
	mb := NewMbox(strings.NewReader("From a 10:00\nA: 1\n\n" + strings.Repeat("x\n", 100000) + "\nFrom b 10:00\nA: 2\n"))
	first, _ := mb.Next()
	var b [4]byte
	if n, _ := first.Read(b[:]); string(b[:n]) != "A: 1" {
		t.Fatalf("first read %q", b[:n])
	}
	second, err := mb.Next()
	if err != nil || second.Number != 2 {
		t.Fatalf("Next: %v", err)
	}
	if n, err := first.Read(b[:]); n != 0 || err != io.EOF {
		t.Errorf("the old message read %d bytes, %v", n, err)
	}
	if got, _ := io.ReadAll(second); string(got) != "A: 2\n" {
		t.Errorf("second %q", got)
	}
	if _, err := mb.Next(); err != io.EOF {
		t.Errorf("after the last: %v", err)
	}
}

func TestMboxReadError(t *testing.T) {
	broken := errFixed("disk on fire")
	mb := NewMbox(io.MultiReader(strings.NewReader("From a 10:00\nA: 1\n"), errReader{broken}))
	m, err := mb.Next()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(m); !errors.Is(err, broken) {
		t.Errorf("ReadAll: %v", err)
	}
	if _, err := mb.Next(); !errors.Is(err, broken) {
		t.Errorf("Next: %v", err)
	}
}

// TestMboxOfThree: an mbox of three messages, the second malformed: the
// first and the third yield their parts, the second its error.
func TestMboxOfThree(t *testing.T) {
	third := strings.Replace(nestedMail, "See the forwarded message.", "See the forwarded message.\n>From the desk of Carol:", 1)
	mbox := "From alice.sender@example.com Thu Jan  4 10:00:00 2024\n" + eicarMail + "\n" +
		"From MAILER-DAEMON Thu Jan  4 10:30:00 2024\nthis line is not a header\n\nbody\n\n" +
		"From carol.forwarder@example.net Fri Jan  5 09:00:00 2024\n" + strings.TrimSuffix(third, "\n")
	type got struct {
		name  string
		parts []string
		err   string
	}
	var all []got
	mb := NewMbox(strings.NewReader(mbox))
	for {
		mm, err := mb.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		m, err := ReadMessage(mm, Limits{})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("message %d: %v is not a *Error", mm.Number, err)
			}
			all = append(all, got{name: Join("archive.mbox", MboxName(mm.Number, "")), err: e.Code()})
			continue
		}
		name := Join("archive.mbox", MboxName(mm.Number, m.ID))
		w := walkMessage(t, m)
		if len(w.res.Problems) > 0 || w.res.Err != nil {
			t.Errorf("%s: problems %v, Err %v", name, w.res.Problems, w.res.Err)
		}
		g := got{name: name}
		for _, p := range w.res.Parts {
			g.parts = append(g.parts, Join(append([]string{name}, p.Path...)...)+" "+p.SHA256[:8])
		}
		all = append(all, g)
	}
	want := []got{
		{name: "archive.mbox › #1 <invoice-2024-001@mail.sender.example>", parts: []string{
			"archive.mbox › #1 <invoice-2024-001@mail.sender.example> › logo.png " + logoSHA256[:8],
			"archive.mbox › #1 <invoice-2024-001@mail.sender.example> › eicar.com " + eicarSHA256[:8]}},
		{name: "archive.mbox › #2", err: "malformed"},
		{name: "archive.mbox › #3 <fwd-1@example.net>", parts: []string{
			"archive.mbox › #3 <fwd-1@example.net> › forwarded.eml › invoice.zip " + zipSHA256[:8]}},
	}
	if len(all) != len(want) {
		t.Fatalf("got %d messages %+v", len(all), all)
	}
	for i := range want {
		if all[i].name != want[i].name || all[i].err != want[i].err || !slices.Equal(all[i].parts, want[i].parts) {
			t.Errorf("message %d\n %+v\nwant\n %+v", i+1, all[i], want[i])
		}
	}
}
