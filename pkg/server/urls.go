package server

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
)

// handleLookupURLs answers POST /v1/lookup/urls: for hash prefixes, every
// full hash the database lists that begins with one, with its verdict. The
// request holds no link and no full hash, so the server cannot tell which
// of the links sharing a prefix was checked; the client matches locally.
// File-reputation restrictions do not apply: links are a separate service.
func (s *Server) handleLookupURLs(w http.ResponseWriter, r *http.Request, lic store.License) {
	req, done, ok := readBatch[string](s, w, r, lic, "prefixes", nil)
	if !ok {
		return
	}
	defer done()
	prefixes := make([]store.URLPrefix, len(req))
	for i, p := range req {
		b, err := hex.DecodeString(p)
		if err != nil || len(b) != len(store.URLPrefix{}) || hex.EncodeToString(b) != p {
			writeProblem(w, r, problem{Status: http.StatusBadRequest, Type: api.ProblemBadRequest,
				Detail: fmt.Sprintf("prefixes[%d]: want 8 lower-case hex characters (a 4-byte hash prefix)", i)})
			return
		}
		prefixes[i] = store.URLPrefix(b)
	}
	found, err := s.cfg.Store.URLsByPrefix(r.Context(), prefixes)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	resp := api.URLLookupResponse{Matches: make([]api.URLMatch, 0, len(found)),
		CacheTTLSeconds: int(s.cfg.CacheTTL.Seconds())}
	for h, inds := range found {
		res := reputation.MergeURLs(inds)
		resp.Matches = append(resp.Matches, api.URLMatch{
			Hash: hex.EncodeToString(h[:]), Verdict: string(res.Verdict), Threat: res.ThreatName,
			Category: res.Category, Sources: res.Sources, FirstSeen: optTime(res.FirstSeen), LastSeen: optTime(res.LastSeen),
		})
	}
	resp.Matches = s.addURLPrevalence(r, prefixes, resp.Matches)
	// In hash order: a map's order would make equal answers differ.
	slices.SortFunc(resp.Matches, func(a, b api.URLMatch) int { return strings.Compare(a.Hash, b.Hash) })
	done() // the answer is written without the turn: a client reading it slowly holds none
	writeJSON(w, http.StatusOK, resp)
}
