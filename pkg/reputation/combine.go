package reputation

import (
	"cmp"
	"slices"
	"time"
)

// Disagreement is a source's answer that lost to a more trusted one: shown
// beside the verdict, it changes neither the verdict nor the exit code.
// Its JSON form is the "disagreements" entry of ksn's --json outputs.
type Disagreement struct {
	Source     string  `json:"source"`
	Verdict    Verdict `json:"verdict"`
	ThreatName string  `json:"threat,omitempty"`
}

// Combine merges what several sources said about one object into its
// result, by the trust rule (DESIGN §2). Answers not Given are ignored.
//
//   - The local answers (TrustLocal) give the base result; the most
//     severe wins and their sources add up.
//   - An answer carrying an operator's override (TrustOverride) is final:
//     no other source changes it, whatever it says.
//   - A network answer (TrustNetwork) may raise the verdict or fill an
//     unknown one: when it is more severe than the verdict so far, its
//     verdict, threat name and category replace it. It never lowers a
//     verdict: a network answer with a verdict less severe than the final
//     one is kept as a Disagreement. One as severe only adds its source.
//     Network answers are weighed most severe first, so their order does
//     not matter.
//   - First and last seen widen over every answer that counts; prevalence
//     (participants who reported the object) is the largest any network
//     answer gave, also when it had no verdict.
func Combine(answers []Answer) Result {
	res := Result{Verdict: Unknown}
	var net []*Answer
	for i := range answers {
		a := &answers[i]
		switch {
		case !a.Given():
		case a.Trust == TrustOverride:
			return a.Result
		case a.Trust >= TrustLocal:
			res = mergeLocal(res, a.Result)
		default:
			res.Prevalence = max(res.Prevalence, a.Prevalence)
			if validVerdict(a.Verdict) && a.Verdict != Unknown {
				net = append(net, a)
			}
		}
	}
	slices.SortStableFunc(net, func(a, b *Answer) int { return cmp.Compare(b.Verdict.Severity(), a.Verdict.Severity()) })
	for _, a := range net {
		switch sev := a.Verdict.Severity(); {
		case sev > res.Verdict.Severity():
			first, last := widen(res, a.Result)
			res.Verdict, res.ThreatName, res.Category = a.Verdict, a.ThreatName, a.Category
			res.Sources = appendSource(slices.Clone(res.Sources), a.Source)
			res.FirstSeen, res.LastSeen = first, last
		case sev == res.Verdict.Severity():
			res.Sources = appendSource(slices.Clone(res.Sources), a.Source)
			res.FirstSeen, res.LastSeen = widen(res, a.Result)
			if res.ThreatName == "" {
				res.ThreatName, res.Category = a.ThreatName, a.Category
			}
		default:
			res.Disagreements = append(res.Disagreements, Disagreement{Source: a.Source, Verdict: a.Verdict, ThreatName: a.ThreatName})
		}
	}
	return res
}

// mergeLocal folds a second local answer into the first: the more severe
// verdict wins and the sources add up.
func mergeLocal(base, add Result) Result {
	if base.Verdict == Unknown && len(base.Sources) == 0 {
		return add
	}
	out := base
	if add.Verdict.Severity() > base.Verdict.Severity() {
		out.Verdict, out.ThreatName, out.Category = add.Verdict, add.ThreatName, add.Category
	}
	out.Sources = slices.Clone(base.Sources)
	for _, s := range add.Sources {
		out.Sources = appendSource(out.Sources, s)
	}
	out.FirstSeen, out.LastSeen = widen(base, add)
	return out
}

// widen returns the earliest first-seen and the latest last-seen of a and b.
func widen(a, b Result) (first, last time.Time) {
	first, last = a.FirstSeen, a.LastSeen
	if !b.FirstSeen.IsZero() && (first.IsZero() || b.FirstSeen.Before(first)) {
		first = b.FirstSeen
	}
	if b.LastSeen.After(last) {
		last = b.LastSeen
	}
	return first, last
}

func appendSource(sources []string, s string) []string {
	if s == "" || slices.Contains(sources, s) {
		return sources
	}
	return append(sources, s)
}
