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

// OpenTIPName is Kaspersky OpenTIP among the sources.
const OpenTIPName = "opentip"

// OpenTIPURL is where Kaspersky's Threat Intelligence Portal answers.
const OpenTIPURL = "https://opentip.kaspersky.com"

// OpenTIP is Kaspersky's Threat Intelligence Portal as a source: one
// GET {base}/api/v1/search/hash?request=<sha256> per file, with the user's
// token in the x-api-key header (opentip.kaspersky.com/Help/Doc_data/
// HashLookupAPI.htm). Its zone is the verdict: Red malicious, Orange and
// Yellow suspicious (adware and other), Green clean, Grey unknown. A 401
// is a rejected key; a 403 is its request quota, spent for the day.
type OpenTIP struct{ *public }

// NewOpenTIP returns the OpenTIP source.
func NewOpenTIP(o PublicOptions) *OpenTIP { return &OpenTIP{newPublic(OpenTIPName, o)} }

// Name implements reputation.Source.
func (s *OpenTIP) Name() string { return OpenTIPName }

// LookupFiles asks about each file's SHA-256.
func (s *OpenTIP) LookupFiles(ctx context.Context, files []reputation.FileQuery) ([]reputation.Answer, error) {
	return s.eachFile(ctx, files, s.ask)
}

func (s *OpenTIP) ask(ctx context.Context, sha string) (reputation.Answer, error) {
	h := http.Header{"X-Api-Key": {s.o.Key}}
	status, hdr, body, err := s.send(ctx, http.MethodGet, "/api/v1/search/hash?request="+url.QueryEscape(sha), nil, h)
	if err != nil {
		return reputation.Answer{}, err
	}
	switch status {
	case http.StatusOK:
		r, info, err := DecodeOpenTIP(body)
		if err != nil {
			return reputation.Answer{}, s.fail(ReasonService, status, err)
		}
		if info.DayQuota > 0 && info.DayRequests >= info.DayQuota {
			s.spent.Store(true)
		}
		return answer(OpenTIPName, r), nil
	case http.StatusNotFound:
		return answer(OpenTIPName, reputation.Result{}), nil // it knows nothing of the file
	case http.StatusUnauthorized:
		return reputation.Answer{}, s.fail(ReasonKeyRejected, status, fmt.Errorf("it does not accept the key (HTTP 401)"))
	case http.StatusForbidden:
		// OpenTIP's answer to a spent quota; it counts per day.
		return reputation.Answer{}, s.limited(status, hdr, "its request quota is spent", NextUTCDay(s.o.Now()))
	case http.StatusTooManyRequests:
		return reputation.Answer{}, s.limited(status, hdr, "it limits the request rate", s.o.Now().Add(15*time.Minute))
	}
	return reputation.Answer{}, s.unexpected(status, body)
}

// openTIPAnswer is the part of OpenTIP's answer ksn reads.
type openTIPAnswer struct {
	Zone            string `json:"Zone"`
	FileGeneralInfo *struct {
		FileStatus string `json:"FileStatus"`
		FirstSeen  string `json:"FirstSeen"`
		LastSeen   string `json:"LastSeen"`
		HitsCount  int64  `json:"HitsCount"`
	} `json:"FileGeneralInfo"`
	DetectionsInfo []struct {
		DetectionName  string `json:"DetectionName"`
		LastDetectDate string `json:"LastDetectDate"`
		Zone           string `json:"Zone"`
	} `json:"DetectionsInfo"`
	LicenseInfo *struct {
		DayRequests int `json:"DayRequests"`
		DayQuota    int `json:"DayQuota"`
	} `json:"LicenseInfo"`
}

// OpenTIPInfo is what an answer says besides the verdict.
type OpenTIPInfo struct {
	// Hits is the file's popularity (hits in Kaspersky's systems, rounded
	// to a power of ten). A result has no field for it, so it is not
	// shown yet.
	Hits int64
	// DayRequests and DayQuota are the key's use of its daily quota, when
	// the answer reports them (Kaspersky's portals do with some keys).
	DayRequests, DayQuota int
}

// DecodeOpenTIP reads a 200 answer of the hash lookup. Every string that
// reaches the result went through untrusted.Text.
func DecodeOpenTIP(body []byte) (reputation.Result, OpenTIPInfo, error) {
	var a openTIPAnswer
	var lic OpenTIPInfo
	if err := json.Unmarshal(body, &a); err != nil {
		return reputation.Result{}, lic, fmt.Errorf("not an OpenTIP answer: %v", err)
	}
	var r reputation.Result
	switch strings.ToLower(a.Zone) {
	case "red":
		r.Verdict = reputation.Malicious
	case "orange", "yellow":
		r.Verdict = reputation.Suspicious
	case "green":
		r.Verdict = reputation.Clean
	case "grey", "gray", "":
		r.Verdict = reputation.Unknown
	default:
		return reputation.Result{}, lic, fmt.Errorf("unknown zone %q", untrusted.Text(a.Zone, 20))
	}
	if g := a.FileGeneralInfo; g != nil {
		r.Category = untrusted.Text(strings.ToLower(g.FileStatus), untrusted.NameLen)
		r.FirstSeen, r.LastSeen = parseOpenTIPTime(g.FirstSeen), parseOpenTIPTime(g.LastSeen)
		lic.Hits = max(g.HitsCount, 0)
	}
	if r.Verdict == reputation.Malicious || r.Verdict == reputation.Suspicious {
		for _, d := range a.DetectionsInfo {
			if d.DetectionName != "" {
				r.ThreatName = untrusted.Text(d.DetectionName, untrusted.NameLen)
				break
			}
		}
	}
	if r.Verdict == reputation.Unknown {
		r = reputation.Result{Verdict: reputation.Unknown} // nothing else counts
	}
	if l := a.LicenseInfo; l != nil {
		lic.DayRequests, lic.DayQuota = l.DayRequests, l.DayQuota
	}
	return r, lic, nil
}

// parseOpenTIPTime reads its dates ("2021-05-12T09:57:00Z", sometimes
// with fractions or without a zone, then UTC); zero when it cannot.
func parseOpenTIPTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
