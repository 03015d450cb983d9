package reputation

import (
	"slices"
	"time"
)

// Combine merges what several sources said about one object into its
// result. Answers not Given are ignored.
//
//   - The local answers (TrustLocal, TrustOverride) give the base result;
//     one carrying an override is final: no other source changes it.
//   - A network answer with a verdict other than unknown replaces the
//     verdict, threat name and category of the base, and its source joins
//     the sources; among several, the most severe one wins (the first on a
//     tie). First and last seen widen to cover every answer.
//   - Prevalence (participants who reported the object) is the largest
//     any network answer gave, also when it had no verdict.
func Combine(answers []Answer) Result {
	res := Result{Verdict: Unknown}
	var net *Answer
	for i := range answers {
		a := &answers[i]
		if !a.Given() {
			continue
		}
		if a.Trust == TrustOverride {
			return a.Result
		}
		if a.Trust >= TrustLocal {
			res = mergeLocal(res, a.Result)
			continue
		}
		res.Prevalence = max(res.Prevalence, a.Prevalence)
		if a.Verdict.Severity() == 0 || !validVerdict(a.Verdict) {
			continue
		}
		if net == nil || a.Verdict.Severity() > net.Verdict.Severity() {
			net = a
		}
	}
	if net == nil {
		return res
	}
	out := res
	out.Verdict, out.ThreatName, out.Category = net.Verdict, net.ThreatName, net.Category
	out.Sources = appendSource(slices.Clone(res.Sources), net.Source)
	out.FirstSeen, out.LastSeen = widen(res, net.Result)
	return out
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
