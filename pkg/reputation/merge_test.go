package reputation

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
)

func TestMerge(t *testing.T) {
	t1 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	t3 := time.Date(2024, 3, 9, 12, 0, 0, 0, time.UTC)

	ind := func(source string, v Verdict, name, cat string) Sourced {
		return Sourced{
			Source:        source,
			FileIndicator: FileIndicator{Algorithm: checksum.SHA256, Size: -1, Verdict: v, ThreatName: name, Category: cat},
		}
	}
	withTimes := func(s Sourced, first, last time.Time) Sourced {
		s.FirstSeen, s.LastSeen = first, last
		return s
	}
	withAlg := func(s Sourced, a checksum.Algorithm) Sourced {
		s.Algorithm = a
		return s
	}

	tests := []struct {
		name string
		in   []Sourced
		want Result
	}{
		{
			name: "no indicators",
			in:   nil,
			want: Result{Verdict: Unknown},
		},
		{
			name: "one indicator",
			in:   []Sourced{withTimes(ind("malwarebazaar", Malicious, "AgentTesla", "trojan"), t1, t2)},
			want: Result{Verdict: Malicious, ThreatName: "AgentTesla", Category: "trojan", Sources: []string{"malwarebazaar"}, FirstSeen: t1, LastSeen: t2},
		},
		{
			name: "most severe wins",
			in: []Sourced{
				ind("nsrl", Clean, "", ""),
				ind("clamav", Suspicious, "PUA.Win.Adware", "pua"),
				ind("malwarebazaar", Malicious, "Emotet", "trojan"),
				ind("other", Unknown, "", ""),
			},
			want: Result{Verdict: Malicious, ThreatName: "Emotet", Category: "trojan", Sources: []string{"clamav", "malwarebazaar", "nsrl", "other"}},
		},
		{
			name: "clean outranks unknown",
			in:   []Sourced{ind("b", Unknown, "x", ""), ind("a", Clean, "", "")},
			want: Result{Verdict: Clean, Sources: []string{"a", "b"}},
		},
		{
			name: "override wins over a more severe verdict",
			in: []Sourced{
				ind("malwarebazaar", Malicious, "FalsePositive", "trojan"),
				ind(OverrideSource, Clean, "", ""),
			},
			want: Result{Verdict: Clean, Sources: []string{"malwarebazaar", OverrideSource}},
		},
		{
			name: "override wins over a less severe verdict",
			in: []Sourced{
				ind(OverrideSource, Suspicious, "Local.Policy", "pua"),
				ind("nsrl", Clean, "", ""),
				ind(BaselineSource, Malicious, "EICAR-Test-File", "test"),
			},
			want: Result{Verdict: Suspicious, ThreatName: "Local.Policy", Category: "pua", Sources: []string{BaselineSource, "nsrl", OverrideSource}},
		},
		{
			name: "override unknown still wins",
			in:   []Sourced{ind("feed", Malicious, "X", "trojan"), ind(OverrideSource, Unknown, "", "")},
			want: Result{Verdict: Unknown, Sources: []string{"feed", OverrideSource}},
		},
		{
			name: "tie prefers a threat name",
			in:   []Sourced{ind("a", Malicious, "", ""), ind("b", Malicious, "Named", "trojan")},
			want: Result{Verdict: Malicious, ThreatName: "Named", Category: "trojan", Sources: []string{"a", "b"}},
		},
		{
			name: "tie then prefers the lowest source name",
			in:   []Sourced{ind("zeta", Malicious, "Z", "z"), ind("alpha", Malicious, "A", "a"), ind("mid", Malicious, "M", "m")},
			want: Result{Verdict: Malicious, ThreatName: "A", Category: "a", Sources: []string{"alpha", "mid", "zeta"}},
		},
		{
			name: "same source by two algorithms is listed once",
			in: []Sourced{
				withAlg(ind(BaselineSource, Malicious, "EICAR-Test-File", "test"), checksum.BLAKE3),
				withAlg(ind(BaselineSource, Malicious, "EICAR-Test-File", "test"), checksum.SHA256),
			},
			want: Result{Verdict: Malicious, ThreatName: "EICAR-Test-File", Category: "test", Sources: []string{BaselineSource}},
		},
		{
			name: "first seen earliest non-zero, last seen latest",
			in: []Sourced{
				withTimes(ind("a", Clean, "", ""), time.Time{}, t1),
				withTimes(ind("b", Clean, "", ""), t2, t3),
				withTimes(ind("c", Clean, "", ""), t1, time.Time{}),
				withTimes(ind("d", Clean, "", ""), t3, t2),
			},
			want: Result{Verdict: Clean, Sources: []string{"a", "b", "c", "d"}, FirstSeen: t1, LastSeen: t3},
		},
		{
			name: "times come from losers too",
			in: []Sourced{
				withTimes(ind("feed", Malicious, "X", ""), t2, t2),
				withTimes(ind(OverrideSource, Clean, "", ""), time.Time{}, t3),
				withTimes(ind("old", Clean, "", ""), t1, t1),
			},
			want: Result{Verdict: Clean, Sources: []string{"feed", "old", OverrideSource}, FirstSeen: t1, LastSeen: t3},
		},
		{
			name: "invalid verdict counts as unknown",
			in:   []Sourced{ind("a", Verdict("bogus"), "", "")},
			want: Result{Verdict: Unknown, Sources: []string{"a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Merge(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Merge() =\n  %+v\nwant\n  %+v", got, tt.want)
			}
			// The result must not depend on the order of the indicators.
			rev := slices.Clone(tt.in)
			slices.Reverse(rev)
			if got := Merge(rev); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Merge(reversed) =\n  %+v\nwant\n  %+v", got, tt.want)
			}
		})
	}
}

func TestMergeDoesNotModifyInput(t *testing.T) {
	in := []Sourced{
		{Source: "b", FileIndicator: FileIndicator{Verdict: Malicious}},
		{Source: "a", FileIndicator: FileIndicator{Verdict: Clean}},
	}
	want := slices.Clone(in)
	Merge(in)
	if !reflect.DeepEqual(in, want) {
		t.Errorf("Merge modified its input: %+v", in)
	}
}
