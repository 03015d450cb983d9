package sources

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/untrusted"
)

// MalwareBazaarName is MalwareBazaar's API among the sources (the feed of
// the same service, imported, is "malwarebazaar-recent").
const MalwareBazaarName = "malwarebazaar-api"

// MalwareBazaarURL is where abuse.ch's MalwareBazaar API answers.
const MalwareBazaarURL = "https://mb-api.abuse.ch"

// MalwareBazaar is abuse.ch's MalwareBazaar API as a source: one POST
// {base}/api/v1/ with the form query=get_info&hash=<sha256> per file,
// with the user's key in the Auth-Key header (bazaar.abuse.ch/api). Its
// query_status says: "ok" with the sample (malicious, named after its
// signature), "hash_not_found" (unknown), "unknown_auth_key" or
// "no_auth_key" (a rejected key).
type MalwareBazaar struct{ *public }

// NewMalwareBazaar returns the MalwareBazaar API source.
func NewMalwareBazaar(o PublicOptions) *MalwareBazaar {
	return &MalwareBazaar{newPublic(MalwareBazaarName, o)}
}

// Name implements reputation.Source.
func (s *MalwareBazaar) Name() string { return MalwareBazaarName }

// LookupFiles asks about each file's SHA-256.
func (s *MalwareBazaar) LookupFiles(ctx context.Context, files []reputation.FileQuery) ([]reputation.Answer, error) {
	return s.eachFile(ctx, files, s.ask)
}

func (s *MalwareBazaar) ask(ctx context.Context, sha string) (reputation.Answer, error) {
	form := url.Values{"query": {"get_info"}, "hash": {sha}}.Encode()
	h := http.Header{"Auth-Key": {s.o.Key}, "Content-Type": {"application/x-www-form-urlencoded"}}
	status, hdr, body, err := s.send(ctx, http.MethodPost, "/api/v1/", []byte(form), h)
	if err != nil {
		return reputation.Answer{}, err
	}
	if status == http.StatusTooManyRequests {
		return reputation.Answer{}, s.limited(status, hdr, "it limits the request rate", s.o.Now().Add(15*time.Minute))
	}
	// abuse.ch answers a bad key with 401 or 403 and a query_status;
	// anything else not a 200 is not an answer.
	if status != http.StatusOK && status != http.StatusUnauthorized && status != http.StatusForbidden {
		return reputation.Answer{}, s.unexpected(status, body)
	}
	r, qs, err := DecodeMalwareBazaar(body)
	switch {
	case qs == "unknown_auth_key" || qs == "no_auth_key" || (err != nil && status != http.StatusOK):
		return reputation.Answer{}, s.fail(ReasonKeyRejected, status, fmt.Errorf("it does not accept the key (HTTP %d, %s)", status, untrusted.Text(qs, 40)))
	case err != nil:
		return reputation.Answer{}, s.fail(ReasonService, status, err)
	}
	return answer(MalwareBazaarName, r), nil
}

// mbAnswer is the part of a get_info answer ksn reads.
type mbAnswer struct {
	QueryStatus string `json:"query_status"`
	Data        []struct {
		SHA256    string   `json:"sha256_hash"`
		FirstSeen *string  `json:"first_seen"`
		LastSeen  *string  `json:"last_seen"`
		Signature *string  `json:"signature"`
		Tags      []string `json:"tags"`
	} `json:"data"`
}

// DecodeMalwareBazaar reads a get_info answer: the result, and the
// query_status for the caller to tell a key problem from the rest. Every
// string that reaches the result went through untrusted.Text.
func DecodeMalwareBazaar(body []byte) (reputation.Result, string, error) {
	var a mbAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return reputation.Result{}, "", fmt.Errorf("not a MalwareBazaar answer: %v", err)
	}
	switch a.QueryStatus {
	case "ok":
	case "hash_not_found":
		return reputation.Result{Verdict: reputation.Unknown}, a.QueryStatus, nil
	default:
		return reputation.Result{}, a.QueryStatus, fmt.Errorf("query_status %q", untrusted.Text(a.QueryStatus, 40))
	}
	if len(a.Data) == 0 {
		return reputation.Result{}, a.QueryStatus, fmt.Errorf("query_status ok without a sample")
	}
	d := a.Data[0]
	r := reputation.Result{Verdict: reputation.Malicious, Category: "malware"}
	if d.Signature != nil && *d.Signature != "" {
		r.ThreatName = untrusted.Text(*d.Signature, untrusted.NameLen)
	} else if len(d.Tags) > 0 {
		r.ThreatName = untrusted.Text(strings.Join(d.Tags, ","), untrusted.NameLen)
	}
	r.FirstSeen, r.LastSeen = parseMBTime(d.FirstSeen), parseMBTime(d.LastSeen)
	return r, a.QueryStatus, nil
}

// parseMBTime reads "2006-01-02 15:04:05" (UTC), or nothing.
func parseMBTime(s *string) time.Time {
	if s == nil {
		return time.Time{}
	}
	t, err := time.Parse("2006-01-02 15:04:05", *s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
