package participation

// URLObservation is the body of a "url" record: what the network learns
// from one checked link. URL is the redacted form (urlcanon.Redact: scheme,
// canonical host and path with token-like segments replaced), never the
// link as given: no user name or password, no query, no fragment.
type URLObservation struct {
	URL     string  `json:"url"`
	Verdict string  `json:"verdict"`
	CheckMS float64 `json:"check_ms"` // time spent canonicalising and checking it
}
