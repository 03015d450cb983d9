//go:build linux

package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// netFault is one broken network and what a client must make of it.
type netFault struct {
	name string
	f    fault
	// ok: the client gets through (slower); else the lookup fails with
	// exit code code and `ksn status` says reason.
	ok     bool
	code   int
	reason string // the status line's "Connection" value, a regexp
}

// netFaults are toxiproxy's toxics, each aimed at a path by the caller.
// The client's timeout is 2 s (newClient).
var netFaults = []netFault{
	{name: "latency", f: fault{Kind: faultLatency, D: 300 * time.Millisecond}, ok: true},
	{name: "timeout", f: fault{Kind: faultTimeout}, code: 4, reason: `offline \(timeout`},
	// A connection that breaks after it was made is told apart from a
	// server that cannot be reached: the server (or what is in between)
	// failed mid-answer, a service error.
	{name: "reset", f: fault{Kind: faultReset, N: 40}, code: 7, reason: `service-error \(protocol: the server closed the connection before its answer was complete`},
	{name: "cut", f: fault{Kind: faultCut, N: 8}, code: 7, reason: `service-error \(protocol: the server closed the connection before its answer was complete`},
	{name: "slow_close", f: fault{Kind: faultSlowClose, D: time.Second}, ok: true},
	{name: "bandwidth", f: fault{Kind: faultBandwidth, N: 2048}, ok: true},
}

// deliveryRecords is how many records the delivery cases collect before
// opting in: more than one batch (1,000) with KSN_NETFAULTS_FULL=1.
func deliveryRecords() int {
	if n, err := strconv.Atoi(os.Getenv("KSN_NETFAULTS_RECORDS")); err == nil && n > 0 {
		return n
	}
	if os.Getenv("KSN_NETFAULTS_FULL") == "1" {
		return 2500
	}
	return 40
}

// TestNetworkFaultsLookups breaks the network under each lookup command
// (status, check, url): each fails the way the fault says, with the
// reason status prints, and the records check collected meanwhile reach
// the server exactly once once the network is whole again.
func TestNetworkFaultsLookups(t *testing.T) {
	s := startNetServer(t)
	for _, nf := range netFaults {
		t.Run(nf.name, func(t *testing.T) {
			p := startFaultProxy(t, s.hostPort())
			c := newClient(t, s, p.URL())
			c.must("optin", "--accept")
			before := s.ids()
			counted := s.counted()

			p.Set(nf.f) // every path
			out, errOut, code := c.run("status")
			t.Logf("status: %d\n%s%s", code, out, errOut)
			wantCode := nf.code
			if nf.ok {
				wantCode = 0
			}
			if code != wantCode {
				t.Errorf("status exit %d, want %d\n%s%s", code, wantCode, out, errOut)
			}
			reason := `connected`
			if !nf.ok {
				reason = nf.reason
			}
			if !regexp.MustCompile(`(?m)^Connection +` + reason).MatchString(out) {
				t.Errorf("status says\n%s\nwant Connection %s", out, reason)
			}
			for _, args := range [][]string{
				append([]string{"check"}, c.files("a", 3)...),
				{"url", "http://example.com/some/page"},
			} {
				out, errOut, code := c.run(args...)
				t.Logf("%s: %d\n%s%s", args[0], code, out, errOut)
				if code != wantCode {
					t.Errorf("%s exit %d, want %d\n%s%s", args[0], code, wantCode, out, errOut)
				}
			}

			p.Set(fault{})
			c.must(append([]string{"check"}, c.files("b", 2)...)...)
			assertExactlyOnce(t, s, c, p, before, counted)
		})
	}
}

// TestNetworkFaultsDelivery breaks the network under the delivery of an
// opt-in's backlog and of a check's records, each fault aimed at
// submissions only: whatever the fault, the records collected reach the
// server exactly once, by id, after the network is whole again.
func TestNetworkFaultsDelivery(t *testing.T) {
	s := startNetServer(t)
	n := deliveryRecords()
	for _, nf := range netFaults {
		t.Run(nf.name, func(t *testing.T) {
			p := startFaultProxy(t, s.hostPort())
			c := newClient(t, s, p.URL())
			c.must("optout")
			c.must(append([]string{"check"}, c.files("backlog", n)...)...)
			collected := c.outbox()
			before := s.ids()
			counted := s.counted()

			f := nf.f
			f.Path = "/v1/submissions"
			p.Set(f)
			out, errOut, code := c.run("optin", "--accept")
			t.Logf("optin: %d\n%s%s", code, out, errOut)
			left := c.outbox()
			if nf.ok && len(left) != 0 {
				t.Errorf("%d records left after optin through %s", len(left), nf.name)
			}
			if !nf.ok && !strings.Contains(errOut, "could not be sent yet") {
				t.Errorf("optin through %s does not say the records wait:\n%s", nf.name, errOut)
			}
			// The check's own records are delivered after its lookups,
			// under the same fault.
			out, errOut, code = c.run(append([]string{"check"}, c.files("more", 3)...)...)
			t.Logf("check: %d\n%s%s", code, out, errOut)
			if code != 0 {
				t.Errorf("check exit %d with only delivery broken", code)
			}
			for id := range c.outbox() {
				collected[id] = true
			}

			p.Set(fault{})
			c.must("optin", "--accept")
			assertExactlyOnce(t, s, c, p, before, counted)
			got := s.ids()
			if lost := diff(collected, got); len(lost) > 0 {
				t.Errorf("%d collected records never reached the server, e.g. %s", len(lost), lost[0])
			}
		})
	}
}

// assertExactlyOnce checks that the client's outbox is empty, that the
// server stored every record the client sent since before and no other,
// and that its aggregates counted each once.
func assertExactlyOnce(t *testing.T, s *netServer, c *client, p *faultProxy, before map[string]bool, counted int) {
	t.Helper()
	if left := c.outbox(); len(left) != 0 {
		t.Errorf("%d records still in the outbox", len(left))
	}
	after := s.ids()
	added := map[string]bool{}
	for _, id := range diff(after, before) {
		added[id] = true
	}
	sent := map[string]bool{}
	resent := 0
	for id, k := range p.Sent() {
		sent[id] = true
		resent += k - 1
	}
	if missing := diff(sent, added); len(missing) > 0 {
		t.Errorf("%d records sent but not stored, e.g. %s", len(missing), missing[0])
	}
	if extra := diff(added, sent); len(extra) > 0 {
		t.Errorf("%d records stored that this client never sent, e.g. %s", len(extra), extra[0])
	}
	if got := s.counted() - counted; got != len(added) {
		t.Errorf("aggregates counted %d records for %d stored: some twice", got, len(added))
	}
	t.Logf("%d records stored once each; %d sends were repeats", len(added), resent)
}

// TestNetworkRetryAfter runs checks, link lookups and status in a loop
// against a real server with small limits, through a proxy that adds
// latency: the server refuses some lookups and deliveries with 429 and
// Retry-After, and no request of the refused kind (lookups or
// submissions: their limits are separate) goes up before that wait is
// over, and once it is, every record collected reaches the server exactly
// once.
func TestNetworkRetryAfter(t *testing.T) {
	rounds := 8
	if os.Getenv("KSN_NETFAULTS_FULL") == "1" {
		rounds = 60
	}
	s := startNetServer(t, "--rate", "2", "--burst", "4", "--submit-rate", "3", "--submit-burst", "6")
	p := startFaultProxy(t, s.hostPort())
	c := newClient(t, s, p.URL())
	c.must("optin", "--accept")
	before, counted := s.ids(), s.counted()
	p.Set(fault{Kind: faultLatency, D: 20 * time.Millisecond})

	codes := map[string]map[int]int{}
	for i := range rounds {
		for _, args := range [][]string{
			append([]string{"check"}, c.files(fmt.Sprint("r", i), 3)...),
			{"url", fmt.Sprintf("http://example.com/%d/page", i)},
			{"status"},
		} {
			out, errOut, code := c.run(args...)
			if code != 0 && code != 6 {
				t.Fatalf("%s: exit %d\n%s%s", args[0], code, out, errOut)
			}
			if args[0] == "status" && code == 6 && !regexp.MustCompile(`(?m)^Connection +rate-limited`).MatchString(out) {
				t.Errorf("status exit 6 says\n%s", out)
			}
			if codes[args[0]] == nil {
				codes[args[0]] = map[int]int{}
			}
			codes[args[0]][code]++
		}
	}
	waits := p.Waits()
	if len(waits) == 0 {
		t.Fatal("the server never asked to wait: the limits are too loose for the test")
	}
	assertNoEarlyRequest(t, p.Requests(), waits)

	// The last wait over, one delivery sends the rest.
	p.Set(fault{})
	for _, w := range waits {
		time.Sleep(time.Until(w.At.Add(w.Wait + 100*time.Millisecond)))
	}
	// The client's remembered wait began when its answer arrived, which
	// on a loaded machine is later than the proxy saw it go: an opt-in
	// then still waits, rightly, and says so. Ask again a little later.
	for try := 0; ; try++ {
		out := c.must("optin", "--accept")
		if len(c.outbox()) == 0 || try == 10 {
			break
		}
		t.Logf("optin %d left records waiting: %s", try, out)
		time.Sleep(500 * time.Millisecond)
	}
	assertExactlyOnce(t, s, c, p, before, counted)
	assertNoEarlyRequest(t, p.Requests(), waits)
	t.Logf("%d rounds: exit codes %v; %d waits asked, %d requests", rounds, codes, len(waits), len(p.Requests()))
}

// waitKind is the limit a request is charged to: lookups (files, links,
// status) or submissions.
func waitKind(path string) string {
	if strings.HasPrefix(path, "/v1/submissions") {
		return "submit"
	}
	return "lookup"
}

// assertNoEarlyRequest fails for a lookup or submission sent while a wait
// the server gave for its kind was running. (ksn status asks anyway, by
// design: it is how a user learns that the wait is over.)
func assertNoEarlyRequest(t *testing.T, reqs []proxiedRequest, waits []proxiedWait) {
	t.Helper()
	for _, r := range reqs {
		method, path, _ := strings.Cut(r.Line, " ")
		if method != "POST" {
			continue
		}
		for _, w := range waits {
			if waitKind(w.Path) == waitKind(path) && r.At.After(w.At) && r.At.Before(w.At.Add(w.Wait)) {
				t.Errorf("%s sent %s after a Retry-After of %s for %s", r.Line, r.At.Sub(w.At).Round(time.Millisecond), w.Wait, w.Path)
			}
		}
	}
}
