package cli

import (
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/check"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/term"
)

// TestPrevalenceShown: how many participants reported a file is shown in
// text and JSON, also when the network has no verdict on it.
func TestPrevalenceShown(t *testing.T) {
	localUnknown := reputation.Answer{Source: "local", Trust: reputation.TrustLocal, Result: reputation.Result{Verdict: reputation.Unknown}}
	net := func(r reputation.Result) reputation.Answer {
		return reputation.Answer{Source: "network", Trust: reputation.TrustNetwork, Result: r}
	}
	unknown := reputation.Combine([]reputation.Answer{localUnknown, net(reputation.Result{Verdict: reputation.Unknown, Prevalence: 3})})
	if unknown.Prevalence != 3 || unknown.Verdict != reputation.Unknown || len(unknown.Sources) != 0 {
		t.Fatalf("combined unknown %+v", unknown)
	}
	bad := reputation.Combine([]reputation.Answer{localUnknown, net(reputation.Result{Verdict: reputation.Malicious, ThreatName: "X", Prevalence: 1})})
	for _, c := range []struct {
		rep       reputation.Result
		json      bool
		want, not string
	}{
		{unknown, false, "UNKNOWN    f.bin  · seen by 3 participants\n", ""},
		{bad, false, "MALICIOUS  f.bin  X  (network)  · seen by 1 participant\n", ""},
		{reputation.Result{Verdict: reputation.Unknown}, false, "UNKNOWN    f.bin\n", "seen by"},
		{unknown, true, `"prevalence":3,`, ""},
		{reputation.Result{Verdict: reputation.Unknown}, true, `"verdict":"unknown"`, "prevalence"},
	} {
		ios, _, out, _ := term.Test()
		r := newReporter(&CheckOptions{IO: ios, JSON: c.json, FailOn: reputation.Malicious}, nil)
		res := check.Item{Reputation: c.rep}
		res.Path, res.Size, res.Digests = "f.bin", 1, map[check.Algorithm][]byte{check.SHA256: make([]byte, 32)}
		if err := r.add(res); err != nil {
			t.Fatal(err)
		}
		r.out.Flush()
		got := out.String()
		if !strings.Contains(got, c.want) || c.not != "" && strings.Contains(got, c.not) {
			t.Errorf("output %q, want %q (and not %q)", got, c.want, c.not)
		}
	}
}
