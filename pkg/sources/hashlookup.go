package sources

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/untrusted"
)

// HashlookupName is CIRCL hashlookup among the sources.
const HashlookupName = "hashlookup"

// HashlookupURL is where CIRCL's service answers.
const HashlookupURL = "https://hashlookup.circl.lu"

// hashlookupBatch bounds the digests of one bulk request.
const hashlookupBatch = 100

// Hashlookup is CIRCL hashlookup as a source: a database of known files
// (NSRL and package repositories) that needs no key. One file is asked
// with GET {base}/lookup/sha256/<h> (404: unknown), several with POST
// {base}/bulk/sha256 {"hashes": [...]}, which answers with the records
// it has and leaves the others out. A record is a known-good file, clean,
// named after the database it comes from, unless it carries
// KnownMalicious (the sources that list it as malware): malicious. A
// record whose hashlookup:trust is below 50 (its default) is not trusted
// enough to call the file clean: unknown.
type Hashlookup struct{ *public }

// NewHashlookup returns the hashlookup source.
func NewHashlookup(o PublicOptions) *Hashlookup { return &Hashlookup{newPublic(HashlookupName, o)} }

// Name implements reputation.Source.
func (s *Hashlookup) Name() string { return HashlookupName }

// LookupFiles asks about the files' SHA-256 digests, in bulk.
func (s *Hashlookup) LookupFiles(ctx context.Context, files []reputation.FileQuery) ([]reputation.Answer, error) {
	out := make([]reputation.Answer, len(files))
	var idx []int
	for i, f := range files {
		if f.Digests[checksum.SHA256] != nil {
			idx = append(idx, i)
		}
	}
	for start := 0; start < len(idx); start += hashlookupBatch {
		chunk := idx[start:min(start+hashlookupBatch, len(idx))]
		hexes := make([]string, len(chunk))
		for j, i := range chunk {
			hexes[j] = files[i].Digests.Hex(checksum.SHA256)
		}
		found, err := s.lookup(ctx, hexes)
		if err != nil {
			return nil, err
		}
		for j, i := range chunk {
			out[i] = answer(HashlookupName, found[hexes[j]])
		}
	}
	return out, nil
}

// lookup returns the result of every digest the service knows, by
// lower-case hex.
func (s *Hashlookup) lookup(ctx context.Context, hexes []string) (map[string]reputation.Result, error) {
	var status int
	var hdr http.Header
	var body []byte
	var err error
	if len(hexes) == 1 {
		status, hdr, body, err = s.exchange(ctx, http.MethodGet, "/lookup/sha256/"+hexes[0], nil, nil)
	} else {
		req, _ := json.Marshal(map[string][]string{"hashes": hexes})
		status, hdr, body, err = s.exchange(ctx, http.MethodPost, "/bulk/sha256", req, http.Header{"Content-Type": {"application/json"}})
	}
	if err != nil {
		return nil, err
	}
	switch {
	case status == http.StatusNotFound && len(hexes) == 1:
		return nil, nil
	case status == http.StatusTooManyRequests:
		return nil, s.limited(status, hdr, "it limits the request rate", s.o.Now().Add(15*time.Minute))
	case status != http.StatusOK:
		return nil, s.unexpected(status, body)
	}
	var records []reputation.Result
	var shas []string
	if len(hexes) == 1 {
		r, sha, err := DecodeHashlookup(body)
		if err != nil {
			return nil, s.fail(ReasonService, status, err)
		}
		records, shas = []reputation.Result{r}, []string{sha}
	} else if records, shas, err = DecodeHashlookupBulk(body); err != nil {
		return nil, s.fail(ReasonService, status, err)
	}
	found := make(map[string]reputation.Result, len(records))
	for i, r := range records {
		found[shas[i]] = r
	}
	if len(hexes) == 1 && shas[0] == "" {
		found[hexes[0]] = records[0] // an answer to a lookup of one need not repeat it
	}
	return found, nil
}

// hashlookupRecord is the part of a record ksn reads.
type hashlookupRecord struct {
	SHA256         string `json:"SHA-256"`
	Source         string `json:"source"`
	DB             string `json:"db"`
	KnownMalicious string `json:"KnownMalicious"`
	Trust          *int   `json:"hashlookup:trust"`
}

// DecodeHashlookup reads the answer to a lookup of one digest: its result
// and the SHA-256 it names (lower-case hex; "" when it names none).
func DecodeHashlookup(body []byte) (reputation.Result, string, error) {
	var rec hashlookupRecord
	if err := json.Unmarshal(body, &rec); err != nil {
		return reputation.Result{}, "", fmt.Errorf("not a hashlookup answer: %v", err)
	}
	return rec.result()
}

// DecodeHashlookupBulk reads the answer to a bulk lookup: the records it
// holds (those without a SHA-256 are left out: they match nothing asked).
func DecodeHashlookupBulk(body []byte) ([]reputation.Result, []string, error) {
	var recs []hashlookupRecord
	if err := json.Unmarshal(body, &recs); err != nil {
		return nil, nil, fmt.Errorf("not a hashlookup bulk answer: %v", err)
	}
	var out []reputation.Result
	var shas []string
	for _, rec := range recs {
		r, sha, err := rec.result()
		if err != nil {
			return nil, nil, err
		}
		if sha != "" {
			out, shas = append(out, r), append(shas, sha)
		}
	}
	return out, shas, nil
}

func (rec hashlookupRecord) result() (reputation.Result, string, error) {
	sha := strings.ToLower(rec.SHA256)
	if sha != "" && (len(sha) != 64 || strings.Trim(sha, "0123456789abcdef") != "") {
		return reputation.Result{}, "", fmt.Errorf("a record with SHA-256 %q", untrusted.Text(rec.SHA256, 70))
	}
	switch {
	case rec.KnownMalicious != "":
		return reputation.Result{Verdict: reputation.Malicious, Category: "known-malicious",
			ThreatName: "listed by " + untrusted.Text(rec.KnownMalicious, untrusted.NameLen)}, sha, nil
	case rec.Trust != nil && *rec.Trust < 50:
		return reputation.Result{Verdict: reputation.Unknown}, sha, nil
	}
	name := rec.Source
	if name == "" {
		name = rec.DB
	}
	return reputation.Result{Verdict: reputation.Clean, Category: "known-good", ThreatName: untrusted.Text(name, untrusted.NameLen)}, sha, nil
}
