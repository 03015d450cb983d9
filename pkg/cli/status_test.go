package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/network"
	"github.com/ksnproject/ksn/pkg/term"
)

// TestStatusColumnsAligned: on a colour terminal the values start in one
// column; padding must not count the colour codes.
func TestStatusColumnsAligned(t *testing.T) {
	ios, _, out, _ := term.Test()
	ios.ForceColor()
	f := &Factory{IO: ios}
	r := network.Report{Endpoint: "https://ksn.example", InsecureTransport: true}
	r.Connected = true
	r.Outbox.Records = 1
	r.Statement.ID, r.Statement.Source = "ksn-0123456789abcdef", "built-in"
	printStatus(f, r)
	ansi := regexp.MustCompile(`\x1b\[[0-9;]*m`)
	if !ansi.MatchString(out.String()) {
		t.Fatalf("no colour codes in the output: the test shows nothing\n%q", out)
	}
	lines := strings.Split(strings.TrimSpace(ansi.ReplaceAllString(out.String(), "")), "\n")
	if len(lines) < 5 {
		t.Fatalf("status printed %d lines:\n%s", len(lines), out)
	}
	for _, l := range lines {
		if len(l) < 16 || l[14] != ' ' || l[15] == ' ' {
			t.Errorf("value not at column 16: %q", l)
		}
	}
	if !strings.Contains(out.String(), "1 record,") {
		t.Errorf("plural: %s", out)
	}
}
