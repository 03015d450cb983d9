package check

import (
	"time"

	"github.com/ksnproject/ksn/pkg/reputation"
)

// Record is the documented NDJSON schema of `ksn check --json` (README,
// "JSON output"), one per item. Fields are only ever added, never renamed.
type Record struct {
	Path      string            `json:"path"`
	Parent    string            `json:"parent,omitempty"` // the message or mbox a part is in
	Status    string            `json:"status"`           // ok, skipped, error
	Size      *int64            `json:"size,omitempty"`
	Digests   map[string]string `json:"digests,omitempty"`
	Cached    *bool             `json:"cached,omitempty"` // digests from the stat cache
	Verdict   string            `json:"verdict,omitempty"`
	Threat    string            `json:"threat,omitempty"`
	Category  string            `json:"category,omitempty"`
	Sources   []string          `json:"sources,omitempty"`
	FirstSeen *time.Time        `json:"first_seen,omitempty"`
	LastSeen  *time.Time        `json:"last_seen,omitempty"`
	// Prevalence is how many participants reported it to the network.
	Prevalence int `json:"prevalence,omitempty"`
	// RaisedBy is the part whose verdict this message took.
	RaisedBy string `json:"raised_by,omitempty"`
	// Disagreements are network answers lower than the verdict: shown,
	// not obeyed.
	Disagreements []reputation.Disagreement `json:"disagreements,omitempty"`
	// Unanswered are the sources asked about it that failed.
	Unanswered []string `json:"unanswered,omitempty"`
	Reason     string   `json:"reason,omitempty"` // why it was skipped
	Error      string   `json:"error,omitempty"`
	ElapsedMS  float64  `json:"elapsed_ms"`
}

// Record returns the item in the --json schema.
func (it Item) Record() Record {
	j := Record{Path: it.Path, Parent: it.Parent, Status: it.Status(), Unanswered: it.Unanswered,
		ElapsedMS: float64(it.Elapsed.Microseconds()) / 1000}
	switch j.Status {
	case "skipped":
		j.Reason = string(it.Skipped())
	case "error":
		j.Error = it.Err.Error()
	default:
		size, cached := it.Size, it.Cached
		j.Size, j.Cached = &size, &cached
		j.Digests = make(map[string]string, len(it.Digests))
		for a := range it.Digests {
			j.Digests[string(a)] = it.Digests.Hex(a)
		}
		r := it.Reputation
		j.Verdict, j.Threat, j.Category, j.Sources = string(r.Verdict), r.ThreatName, r.Category, r.Sources
		j.Prevalence, j.Disagreements, j.RaisedBy = r.Prevalence, r.Disagreements, it.RaisedBy
		j.FirstSeen, j.LastSeen = optUTC(r.FirstSeen), optUTC(r.LastSeen)
	}
	return j
}

func optUTC(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
