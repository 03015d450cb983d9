package reputation

import (
	"slices"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
)

// Reserved source names. No feed may be imported under them.
const (
	// OverrideSource is the source of operator overrides (`ksn admin`
	// verdict overrides). An override wins over every other source,
	// whatever its severity: it is how an operator corrects a false positive
	// or pins a verdict.
	OverrideSource = "override"
	// BaselineSource is the source of the built-in baseline shipped with the
	// database schema (the industry test objects such as the EICAR test
	// file), so that a fresh install detects them offline.
	BaselineSource = "baseline"
)

// Sourced is one indicator as a database holds it: what the source said,
// which source said it, and when an import of that source last said it.
type Sourced struct {
	Source string
	FileIndicator
	// LastSeen is when the source last stated the indicator (the time of
	// the last import, or override, that carried it); zero when unknown.
	LastSeen time.Time
}

// Merge combines the indicators known for one file into its result.
//
//   - An indicator from OverrideSource wins over every other source,
//     regardless of severity.
//   - Otherwise the most severe verdict wins (malicious > suspicious >
//     clean > unknown).
//   - ThreatName and Category come from the winning indicator. Among
//     indicators of equal standing, one with a threat name is preferred,
//     then the lowest source name, so the result does not depend on the
//     order of inds.
//   - Sources lists every source that contributed an indicator (also those
//     that lost to the winner), sorted and de-duplicated.
//   - FirstSeen is the earliest non-zero FirstSeen, LastSeen the latest
//     non-zero LastSeen, over all indicators.
//
// No indicators give a result with verdict Unknown and no sources.
func Merge(inds []Sourced) Result {
	res := Result{Verdict: Unknown}
	if len(inds) == 0 {
		return res
	}

	overridden := slices.ContainsFunc(inds, func(s Sourced) bool { return s.Source == OverrideSource })
	var win *Sourced
	for i := range inds {
		ind := &inds[i]
		if ind.Source != "" && !slices.Contains(res.Sources, ind.Source) {
			res.Sources = append(res.Sources, ind.Source)
		}
		if !ind.FirstSeen.IsZero() && (res.FirstSeen.IsZero() || ind.FirstSeen.Before(res.FirstSeen)) {
			res.FirstSeen = ind.FirstSeen
		}
		if !ind.LastSeen.IsZero() && ind.LastSeen.After(res.LastSeen) {
			res.LastSeen = ind.LastSeen
		}
		if overridden && ind.Source != OverrideSource {
			continue
		}
		if win == nil || beats(ind, win) {
			win = ind
		}
	}
	slices.Sort(res.Sources)

	res.Verdict = win.Verdict
	if !validVerdict(res.Verdict) {
		res.Verdict = Unknown
	}
	res.ThreatName = win.ThreatName
	res.Category = win.Category
	return res
}

// beats reports whether a should win over b, both being eligible.
func beats(a, b *Sourced) bool {
	if sa, sb := a.Verdict.Severity(), b.Verdict.Severity(); sa != sb {
		return sa > sb
	}
	if ha, hb := a.ThreatName != "", b.ThreatName != ""; ha != hb {
		return ha
	}
	if c := strings.Compare(a.Source, b.Source); c != 0 {
		return c < 0
	}
	// Same source, e.g. the same feed keyed the file by two algorithms
	// with different names: any fixed order will do.
	if c := strings.Compare(a.ThreatName, b.ThreatName); c != 0 {
		return c < 0
	}
	if c := strings.Compare(a.Category, b.Category); c != 0 {
		return c < 0
	}
	return algorithmRank(a.Algorithm) < algorithmRank(b.Algorithm)
}

func algorithmRank(a checksum.Algorithm) int {
	if i := slices.Index(checksum.All, a); i >= 0 {
		return i
	}
	return len(checksum.All)
}

func validVerdict(v Verdict) bool {
	switch v {
	case Unknown, Clean, Suspicious, Malicious:
		return true
	}
	return false
}
