package client

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// URLAnswer is the network's answer for some hash prefixes: the verdicts of
// the full hashes it lists under them.
type URLAnswer struct {
	Verdicts map[[32]byte]api.URLMatch
}

// LookupURLs sends only 4-byte prefixes (POST /v1/lookup/urls, at most
// api.MaxBatch per request) and returns the full hashes the server lists
// under them. The caller matches them against its own full hashes: the
// server is never told which link, or even which full hash, was checked.
// A match for a prefix nobody asked about, a malformed hash, an unknown
// verdict or a prevalence outside [0, api.MaxPrevalence] is a protocol
// violation.
func (c *Client) LookupURLs(ctx context.Context, prefixes [][4]byte) (URLAnswer, error) {
	ans := URLAnswer{Verdicts: make(map[[32]byte]api.URLMatch)}
	size := c.batchSize()
	for start := 0; start < len(prefixes); start += size {
		batch := prefixes[start:min(start+size, len(prefixes))]
		asked := make(map[[4]byte]bool, len(batch))
		req := api.URLLookupRequest{Prefixes: make([]string, len(batch))}
		for i, p := range batch {
			req.Prefixes[i] = hex.EncodeToString(p[:])
			asked[p] = true
		}
		var resp api.URLLookupResponse
		got := make(map[[32]byte]api.URLMatch)
		err := c.do(ctx, http.MethodPost, api.PathLookupURLs, req, &resp, func() error {
			for i, m := range resp.Matches {
				b, err := hex.DecodeString(m.Hash)
				if err != nil || len(b) != 32 || strings.ToLower(m.Hash) != m.Hash {
					return fmt.Errorf("match %d: hash %q is not 64 lower-case hex characters", i, m.Hash)
				}
				h := [32]byte(b)
				if !asked[[4]byte(h[:4])] {
					return fmt.Errorf("match %d: hash %s answers a prefix that was not asked about", i, m.Hash)
				}
				if _, err := reputation.ParseVerdict(m.Verdict); err != nil {
					return fmt.Errorf("match %d: %v", i, err)
				}
				// Untrusted input: a count outside [0, MaxPrevalence]
				// is no count at all.
				if m.Prevalence < 0 || m.Prevalence > api.MaxPrevalence {
					return fmt.Errorf("match %d: prevalence %d is not a count of participants", i, m.Prevalence)
				}
				got[h] = m
			}
			if resp.CacheTTLSeconds < 0 {
				return fmt.Errorf("negative cache TTL %d", resp.CacheTTLSeconds)
			}
			return nil
		}, http.StatusOK)
		if err != nil {
			return ans, err
		}
		for h, m := range got {
			ans.Verdicts[h] = m
		}
	}
	return ans, nil
}
