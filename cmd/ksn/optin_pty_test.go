//go:build linux

package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestOptinPromptOnATerminal drives `ksn optin` through a real
// pseudo-terminal: only an explicit yes accepts; no and an empty answer
// decline, and every answer is recorded.
func TestOptinPromptOnATerminal(t *testing.T) {
	ksn, err := exec.LookPath("ksn") // installed in $PATH by testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		answer    string
		wantState string
		wantSaid  string
	}{
		{"yes", `"state":"participating"`, "Participating at the extended level"},
		{"YES", `"state":"participating"`, "Participating at the extended level"},
		{"y", `"state":"declined"`, "Declined at"}, // only the whole word accepts
		{"no", `"state":"declined"`, "Declined at"},
		{"", `"state":"declined"`, "Declined at"},
		{"sure, why not", `"state":"declined"`, "Declined at"},
	}
	for _, c := range cases {
		t.Run("answer "+c.answer, func(t *testing.T) {
			home := t.TempDir()
			env := append(cleanEnv(), "KSN_HOME="+home, "PAGER=cat", "TERM=dumb")
			screen := runOnTerminal(t, ksn, env, []string{"optin"}, c.answer)
			for _, want := range []string{"voluntary", `Type "yes" to accept:`, "No records were collected", c.wantSaid} {
				if !strings.Contains(screen, want) {
					t.Errorf("the terminal never showed %q:\n%s", want, screen)
				}
			}
			status := exec.Command(ksn, "status", "--json")
			status.Env = env
			out, _ := status.Output() // exits 3 or 4: the state is what matters
			if !bytes.Contains(out, []byte(c.wantState)) || !bytes.Contains(out, []byte(`"via":"terminal"`)) {
				t.Fatalf("after answering %q, status is %s", c.answer, out)
			}
		})
	}
}

// runOnTerminal starts argv on a new pseudo-terminal, waits for the yes/no
// prompt, types answer and returns everything the terminal showed.
func runOnTerminal(t *testing.T, ksn string, env, args []string, answer string) string {
	t.Helper()
	cmd := exec.Command(ksn, args...)
	cmd.Env = env
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()

	var mu sync.Mutex
	var screen bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil { // EIO once the child exits and the terminal hangs up
				return
			}
		}
	}()
	shown := func() string { mu.Lock(); defer mu.Unlock(); return screen.String() }

	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(shown(), `to accept: `) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no prompt after 20 s; the terminal showed:\n%s", shown())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := io.WriteString(tty, answer+"\r"); err != nil {
		t.Fatal(err)
	}
	werr := cmd.Wait()
	<-done
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		t.Fatal(werr)
	}
	if werr != nil {
		t.Fatalf("ksn %s exited %d:\n%s", strings.Join(args, " "), ee.ExitCode(), shown())
	}
	return shown()
}

// cleanEnv is this process's environment without the variables that would
// change what ksn does (participation switches, colour, ksn's own settings).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "KSN_") || k == "DO_NOT_TRACK" || k == "NO_COLOR" || k == "PAGER" || k == "TERM" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// TestOptinPromptCountsTheBacklog: the prompt says how many collected
// records accepting would send, and that without an endpoint they wait.
func TestOptinPromptCountsTheBacklog(t *testing.T) {
	ksn, err := exec.LookPath("ksn")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	env := append(cleanEnv(), "KSN_HOME="+home, "PAGER=cat", "TERM=dumb")
	sample := home + "/a.txt"
	if err := os.WriteFile(sample, []byte("collected while undecided\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check := exec.Command(ksn, "check", sample)
	check.Env = env
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	// The file's record and the daily system record.
	screen := runOnTerminal(t, ksn, env, []string{"optin"}, "no")
	want := "If you accept, the 2 records collected on this machine since "
	if !strings.Contains(screen, want) || !strings.Contains(screen, "will be sent once an endpoint is set.") {
		t.Fatalf("the prompt did not count the backlog (%q):\n%s", want, screen)
	}
}
