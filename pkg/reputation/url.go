package reputation

import "time"

// URLIndicator is one statement about a link, keyed the way Safe Browsing
// keys its lists: by the SHA-256 of one host-suffix/path-prefix expression
// ("evil.example/", "evil.example/dl/x.exe"). Every URL one of whose
// expressions hashes to Hash matches it, so an expression naming a host
// with the path "/" covers every link on that host and its subdomains.
type URLIndicator struct {
	Hash       [32]byte // SHA-256 of Expression
	Expression string   // host and path, no scheme, e.g. "evil.example/dl/x.exe"
	Verdict    Verdict
	ThreatName string    // may be empty
	Category   string    // e.g. "malware_download", "phishing", "test"
	FirstSeen  time.Time // zero when the source does not say
}

// URLSourced is one URL indicator as a database holds it.
type URLSourced struct {
	Source string
	URLIndicator
	LastSeen time.Time // when the source last stated it; zero when unknown
}

// MergeURLs combines the indicators matched by one link's expressions into
// its result, by the rules of Merge: an override wins, else the most
// severe verdict.
func MergeURLs(inds []URLSourced) Result {
	as := make([]Sourced, len(inds))
	for i, u := range inds {
		as[i] = Sourced{
			Source: u.Source,
			FileIndicator: FileIndicator{Verdict: u.Verdict, ThreatName: u.ThreatName,
				Category: u.Category, FirstSeen: u.FirstSeen, Size: -1},
			LastSeen: u.LastSeen,
		}
	}
	return Merge(as)
}
