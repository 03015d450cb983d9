package reputation

import (
	"fmt"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
)

// Verdict is the reputation of one object.
type Verdict string

// The verdicts, from least to most severe for --fail-on purposes.
const (
	Unknown    Verdict = "unknown"
	Clean      Verdict = "clean"
	Suspicious Verdict = "suspicious"
	Malicious  Verdict = "malicious"
)

// Verdicts lists every verdict in the order used for summaries.
var Verdicts = []Verdict{Malicious, Suspicious, Clean, Unknown}

// Severity orders verdicts for --fail-on and for merging feeds: a higher
// severity wins. Clean outranks unknown because it is still information.
func (v Verdict) Severity() int {
	switch v {
	case Clean:
		return 1
	case Suspicious:
		return 2
	case Malicious:
		return 3
	}
	return 0
}

// ParseVerdict accepts a verdict name case-insensitively.
func ParseVerdict(s string) (Verdict, error) {
	v := Verdict(strings.ToLower(strings.TrimSpace(s)))
	switch v {
	case Unknown, Clean, Suspicious, Malicious:
		return v, nil
	}
	return "", fmt.Errorf("unknown verdict %q (known: malicious, suspicious, clean, unknown)", s)
}

// FileIndicator is one statement about a file digest, as a feed, the
// built-in baseline or an operator override makes it.
type FileIndicator struct {
	Algorithm  checksum.Algorithm
	Digest     []byte // raw bytes, Algorithm.Size() long
	Size       int64  // -1 when the source does not say
	Verdict    Verdict
	ThreatName string    // e.g. "EICAR-Test-File", "AgentTesla"; may be empty
	Category   string    // e.g. "test", "trojan", "pua"; may be empty
	FirstSeen  time.Time // zero when the source does not say
}

// Result is the combined reputation of one file.
type Result struct {
	Verdict    Verdict
	ThreatName string
	Category   string
	Sources    []string // the sources that contributed, e.g. "baseline", "malwarebazaar"
	FirstSeen  time.Time
	LastSeen   time.Time
	Prevalence int // distinct participants that reported it (network only)
	// Disagreements are the network answers lower than the verdict: shown,
	// never obeyed (see Combine).
	Disagreements []Disagreement
}
