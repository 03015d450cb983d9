package api

import (
	"encoding/json"
	"time"
)

// Paths of the API.
const (
	PathStatus      = "/v1/status"
	PathStatement   = "/v1/statement"
	PathLookupFiles = "/v1/lookup/files"
	PathLookupURLs  = "/v1/lookup/urls"
	PathSubmissions = "/v1/submissions"
	PathHealth      = "/healthz"
	PathMetrics     = "/metrics"
)

// MaxBatch is the most items one lookup or submission request may carry.
const MaxBatch = 1000

// MaxRecordURL is the longest redacted link a "url" record may carry; a
// client keeps no record of a longer one (the server would refuse it).
const MaxRecordURL = 2048

// Status answers GET /v1/status: everything `ksn status` needs in one call.
type Status struct {
	License   License      `json:"license"`
	Statement StatementRef `json:"statement"`
	Limits    Limits       `json:"limits"`
	// FileReputation is "available", or "restricted" while the operator
	// has switched file lookups off service-wide.
	FileReputation string `json:"file_reputation"`
	// RestrictedSeconds is, while restricted, how long the restriction
	// still lasts (what a file lookup's Retry-After would say).
	RestrictedSeconds int `json:"restricted_seconds,omitempty"`
}

// License describes the caller's license as the server sees it.
type License struct {
	State     string     `json:"state"` // "valid"
	Label     string     `json:"label,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// StatementRef names the statement in force.
type StatementRef struct {
	ID     string `json:"id"`
	SHA256 string `json:"sha256"`
}

// Statement answers GET /v1/statement.
type Statement struct {
	ID     string `json:"id"`
	SHA256 string `json:"sha256"`
	Text   string `json:"text"`
}

// Limits tell a client how to size its requests.
type Limits struct {
	MaxBatch        int     `json:"max_batch"`
	MaxBodyBytes    int64   `json:"max_body_bytes"`   // of a submission; lookups' limits are smaller, sized to a full batch
	ItemsPerSecond  float64 `json:"items_per_second"` // the license's sustained rate
	Burst           int     `json:"burst"`
	CacheTTLSeconds int     `json:"cache_ttl_seconds"` // how long a client may cache a verdict
	// SubmitPerSecond and SubmitBurst are the license's submission budget
	// in records, a token bucket apart from the lookups' (which the two
	// fields above describe), so that a client can space the batches of a
	// backlog to fit; 0 from a server that does not say, which means the
	// lookups' figures.
	SubmitPerSecond float64 `json:"submit_per_second,omitempty"`
	SubmitBurst     int     `json:"submit_burst,omitempty"`
}

// FileLookupRequest is the body of POST /v1/lookup/files.
type FileLookupRequest struct {
	Items []FileQuery `json:"items"`
}

// FileQuery is one file: its digests by algorithm name (lower-case hex).
type FileQuery struct {
	Digests map[string]string `json:"digests"`
	Size    int64             `json:"size,omitempty"`
}

// FileLookupResponse has one result per request item, in request order;
// an unknown file is a result with verdict "unknown", never an error.
type FileLookupResponse struct {
	Results []FileResult `json:"results"`
}

// FileResult is the network's verdict on one file.
type FileResult struct {
	Verdict    string     `json:"verdict"`
	Threat     string     `json:"threat,omitempty"`
	Category   string     `json:"category,omitempty"`
	Sources    []string   `json:"sources,omitempty"`
	FirstSeen  *time.Time `json:"first_seen,omitempty"`
	LastSeen   *time.Time `json:"last_seen,omitempty"`
	Prevalence int        `json:"prevalence,omitempty"` // distinct participants that reported it
}

// SubmissionBatch is the body of POST /v1/submissions. Records carry
// random ids; the server ignores ids it has seen, so a client may resend a
// batch after any failure without counting anything twice.
type SubmissionBatch struct {
	// Participant is the sending installation's code for the current UTC
	// half-year (required): 32 lower-case hex characters, the first 16
	// bytes of HMAC-SHA256(secret, "ksn-participant:" + "2026H2"), where
	// the secret never leaves the installation. It lets the server count
	// distinct participants within a half-year; it changes every
	// half-year, so installations cannot be followed from one to the next.
	Participant string   `json:"participant"`
	Records     []Record `json:"records"`
}

// Record is one outbox record as sent.
type Record struct {
	ID        string          `json:"id"` // 32 lower-case hex characters
	Kind      string          `json:"kind"`
	CreatedAt time.Time       `json:"created_at"`
	Body      json.RawMessage `json:"body"`
}

// SubmissionResult answers an accepted batch (202).
type SubmissionResult struct {
	Accepted   int `json:"accepted"`   // new records stored
	Duplicates int `json:"duplicates"` // ids already seen, ignored
}

// Problem is an error response (application/problem+json).
type Problem struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	Status     int    `json:"status"`
	Detail     string `json:"detail,omitempty"`
	RetryAfter int    `json:"retry_after,omitempty"` // seconds, also in the Retry-After header
}

// ProblemContentType is the media type of a Problem.
const ProblemContentType = "application/problem+json"

// Problem types (the Type field), one per condition a client must tell
// apart (DESIGN §6).
const (
	ProblemNotActivated      = "not-activated"      // 401: no key, or a key the server does not know
	ProblemLicenseExpired    = "license-expired"    // 403
	ProblemLicenseDenylisted = "license-denylisted" // 403
	ProblemRateLimited       = "rate-limited"       // 429 + Retry-After
	ProblemRestricted        = "restricted"         // 503 + Retry-After: file reputation switched off service-wide
	ProblemBadRequest        = "bad-request"        // 400
	ProblemTooLarge          = "too-large"          // 413
	// ProblemIDReused (422): a record id the server stored before, sent
	// with another record (the Idempotency-Key draft's "same key,
	// different payload"). Nothing of the batch was stored; a client
	// resending a batch sends its records unchanged and never meets it.
	ProblemIDReused = "id-reused"
	ProblemInternal = "internal" // 500
)

// URLLookupRequest is the body of POST /v1/lookup/urls: 4-byte prefixes of
// the SHA-256 hashes of a link's Safe Browsing expressions, never a link.
type URLLookupRequest struct {
	Prefixes []string `json:"prefixes"` // 8 lower-case hex characters each, at most MaxBatch
}

// URLLookupResponse lists every full hash the server knows that begins with
// one of the requested prefixes; the client matches them against its own
// full hashes, so the server never learns which link was checked.
type URLLookupResponse struct {
	Matches         []URLMatch `json:"matches"`
	CacheTTLSeconds int        `json:"cache_ttl_seconds"` // how long a client may keep the answer
}

// MaxPrevalence bounds a prevalence on the wire: a server caps its counts
// to it, and a client refuses an answer above it (or below 0) as a protocol
// violation.
const MaxPrevalence = 1<<31 - 1

// URLMatch is the network's verdict on one expression hash.
type URLMatch struct {
	Hash      string     `json:"hash"` // 64 lower-case hex characters
	Verdict   string     `json:"verdict"`
	Threat    string     `json:"threat,omitempty"`
	Category  string     `json:"category,omitempty"`
	Sources   []string   `json:"sources,omitempty"`
	FirstSeen *time.Time `json:"first_seen,omitempty"`
	LastSeen  *time.Time `json:"last_seen,omitempty"`
	// Prevalence is how many participants reported the link whose
	// "host/path" expression this is; given only from the server's
	// --min-prevalence up. A match may carry it alone (verdict unknown).
	Prevalence int `json:"prevalence,omitempty"`
}
