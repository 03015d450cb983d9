package reputation

import (
	"reflect"
	"testing"
	"time"
)

func TestCombine(t *testing.T) {
	t1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	local := func(r Result) Answer { return Answer{Source: "local", Trust: TrustLocal, Result: r} }
	override := func(r Result) Answer { return Answer{Source: "local", Trust: TrustOverride, Result: r} }
	net := func(name string, r Result) Answer { return Answer{Source: name, Trust: TrustNetwork, Result: r} }
	eicar := Result{Verdict: Malicious, ThreatName: "EICAR-Test-File", Category: "test", Sources: []string{BaselineSource}}
	unknown := Result{Verdict: Unknown}

	tests := []struct {
		name string
		in   []Answer
		want Result
	}{
		{"nothing", nil, Result{Verdict: Unknown}},
		{"no answer given", []Answer{{}, {}}, Result{Verdict: Unknown}},
		{"local only", []Answer{local(eicar)}, eicar},
		{"the network fills an unknown",
			[]Answer{local(unknown), net("network", Result{Verdict: Malicious, ThreatName: "Net.X", Sources: []string{"network"}, FirstSeen: t1, LastSeen: t2, Prevalence: 4})},
			Result{Verdict: Malicious, ThreatName: "Net.X", Sources: []string{"network"}, FirstSeen: t1, LastSeen: t2, Prevalence: 4}},
		{"an unknown network answer still tells prevalence",
			[]Answer{local(eicar), net("network", Result{Verdict: Unknown, Prevalence: 7})},
			Result{Verdict: Malicious, ThreatName: "EICAR-Test-File", Category: "test", Sources: []string{BaselineSource}, Prevalence: 7}},
		{"two network sources disagree: the most severe wins",
			[]Answer{local(unknown), net("a", Result{Verdict: Suspicious, ThreatName: "PUA"}), net("b", Result{Verdict: Malicious, ThreatName: "Trojan"})},
			Result{Verdict: Malicious, ThreatName: "Trojan", Sources: []string{"b"}, Disagreements: []Disagreement{{Source: "a", Verdict: Suspicious, ThreatName: "PUA"}}}},
		{"the network never lowers a local detection",
			[]Answer{local(eicar), net("network", Result{Verdict: Clean, ThreatName: "Vetted"})},
			Result{Verdict: Malicious, ThreatName: "EICAR-Test-File", Category: "test", Sources: []string{BaselineSource},
				Disagreements: []Disagreement{{Source: "network", Verdict: Clean, ThreatName: "Vetted"}}}},
		{"nor to suspicious",
			[]Answer{local(eicar), net("network", Result{Verdict: Suspicious})},
			Result{Verdict: Malicious, ThreatName: "EICAR-Test-File", Category: "test", Sources: []string{BaselineSource},
				Disagreements: []Disagreement{{Source: "network", Verdict: Suspicious}}}},
		{"an unknown network answer is no disagreement",
			[]Answer{local(eicar), net("network", Result{Verdict: Unknown})},
			eicar},
		{"the network raises a known-good to malicious",
			[]Answer{local(Result{Verdict: Clean, Sources: []string{"nsrl"}}), net("network", Result{Verdict: Malicious, ThreatName: "Trojan"})},
			Result{Verdict: Malicious, ThreatName: "Trojan", Sources: []string{"nsrl", "network"}}},
		{"a network answer as severe corroborates",
			[]Answer{local(eicar), net("opentip", Result{Verdict: Malicious, ThreatName: "EICAR"})},
			Result{Verdict: Malicious, ThreatName: "EICAR-Test-File", Category: "test", Sources: []string{BaselineSource, "opentip"}}},
		{"network sources disagree in any order: the most severe wins, the other is shown",
			[]Answer{local(unknown), net("a", Result{Verdict: Clean}), net("b", Result{Verdict: Malicious, ThreatName: "Trojan"})},
			Result{Verdict: Malicious, ThreatName: "Trojan", Sources: []string{"b"}, Disagreements: []Disagreement{{Source: "a", Verdict: Clean}}}},
		{"an override lowers, and the network is not heard",
			[]Answer{override(Result{Verdict: Suspicious, Sources: []string{BaselineSource, OverrideSource}}), net("network", Result{Verdict: Malicious})},
			Result{Verdict: Suspicious, Sources: []string{BaselineSource, OverrideSource}}},
		{"an override is final",
			[]Answer{override(Result{Verdict: Clean, Sources: []string{"feed", OverrideSource}}), net("network", Result{Verdict: Malicious, ThreatName: "X"})},
			Result{Verdict: Clean, Sources: []string{"feed", OverrideSource}}},
		{"two local answers: the more severe, sources added",
			[]Answer{local(Result{Verdict: Clean, Sources: []string{"nsrl"}, FirstSeen: t2}), local(Result{Verdict: Suspicious, ThreatName: "PUA", Sources: []string{"clamav"}, FirstSeen: t1})},
			Result{Verdict: Suspicious, ThreatName: "PUA", Sources: []string{"nsrl", "clamav"}, FirstSeen: t1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Combine(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Combine =\n  %+v\nwant\n  %+v", got, tt.want)
			}
		})
	}
}
