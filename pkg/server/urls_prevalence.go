package server

import (
	"encoding/hex"
	"log/slog"
	"net/http"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
)

// addURLPrevalence adds to the matches how many participants reported
// each link hash under the prefixes (url records, aggregated by the SHA-256
// of their "host/path"), from the server's MinPrevalence up, as files have
// it: below, that anyone reported a link is not told. A link reported but
// listed by no source becomes a match of its own, verdict unknown, so that
// the client can show its prevalence. Prevalence is extra: when it cannot
// be read, the verdicts go out without it.
func (s *Server) addURLPrevalence(r *http.Request, prefixes []store.URLPrefix, matches []api.URLMatch) []api.URLMatch {
	prev, err := s.cfg.Store.URLPrevalence(r.Context(), prefixes, s.cfg.MinPrevalence)
	if err != nil {
		s.log.Warn("link prevalence unavailable", slog.Any("error", err))
		return matches
	}
	for i := range matches {
		b, err := hex.DecodeString(matches[i].Hash)
		if err != nil || len(b) != 32 {
			continue
		}
		if n, ok := prev[store.URLHash(b)]; ok {
			matches[i].Prevalence = prevalenceInt(n)
			delete(prev, store.URLHash(b))
		}
	}
	for h, n := range prev {
		matches = append(matches, api.URLMatch{Hash: hex.EncodeToString(h[:]), Verdict: string(reputation.Unknown), Prevalence: prevalenceInt(n)})
	}
	return matches
}

// prevalenceInt bounds a count to what every client's int holds.
func prevalenceInt(n int64) int { return int(min(n, api.MaxPrevalence)) }
