package sources

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/untrusted"
)

// ServerName is the name of a ksn reputation server among the sources.
const ServerName = "network"

// VerdictCache keeps a server's answers for a while (the local database
// implements it), so that a file checked again soon costs no request.
type VerdictCache interface {
	CachedVerdicts(ctx context.Context, sha256s [][]byte, now time.Time) (map[string]api.FileResult, error)
	CacheVerdicts(ctx context.Context, results map[string]api.FileResult, now time.Time, ttl time.Duration) error
}

// Server is a ksn reputation server (`ksn serve`) as a source. Files are
// asked about by digests; links by 4-byte prefixes of their expression
// hashes only, the full hashes that come back being matched here.
type Server struct {
	cl *client.Client
	// cache, when set, keeps answers for ttl; with fresh set, every file
	// is asked about again and the answers still replace cached ones.
	cache VerdictCache
	ttl   time.Duration
	fresh bool
	now   func() time.Time
}

// ServerOptions configure a Server source.
type ServerOptions struct {
	Cache VerdictCache  // nil: no cache
	TTL   time.Duration // how long an answer may be used; 0 keeps none
	Fresh bool          // ask even about files answered recently (--no-cache)
}

// NewServer returns the source of the server cl talks to.
func NewServer(cl *client.Client, o ServerOptions) *Server {
	return &Server{cl: cl, cache: o.Cache, ttl: o.TTL, fresh: o.Fresh, now: time.Now}
}

// Name implements reputation.Source.
func (s *Server) Name() string { return ServerName }

// Trust implements reputation.Source.
func (s *Server) Trust() reputation.Trust { return reputation.TrustNetwork }

// LookupFiles asks the server about every file it has no fresh cached
// answer for, and caches what it says.
func (s *Server) LookupFiles(ctx context.Context, files []reputation.FileQuery) ([]reputation.Answer, error) {
	out := make([]reputation.Answer, len(files))
	want := make([]int, 0, len(files))
	for i := range files {
		want = append(want, i)
	}
	now := s.now()
	caching := s.cache != nil && s.ttl > 0
	if caching && !s.fresh {
		keys := make([][]byte, 0, len(want))
		for _, i := range want {
			keys = append(keys, files[i].Digests[checksum.SHA256])
		}
		// The cache only saves requests: when it fails, ask the server.
		hits, _ := s.cache.CachedVerdicts(ctx, keys, now)
		rest := want[:0]
		for _, i := range want {
			if r, ok := hits[string(files[i].Digests[checksum.SHA256])]; ok {
				out[i] = fileAnswer(r)
			} else {
				rest = append(rest, i)
			}
		}
		want = rest
	}
	if len(want) == 0 {
		return out, nil
	}
	items := make([]api.FileQuery, len(want))
	for j, i := range want {
		f := files[i]
		q := api.FileQuery{Digests: make(map[string]string, len(f.Digests)), Size: f.Size}
		for a := range f.Digests {
			q.Digests[string(a)] = f.Digests.Hex(a)
		}
		items[j] = q
	}
	res, err := s.cl.LookupFiles(ctx, items)
	if err != nil {
		return nil, err
	}
	fresh := make(map[string]api.FileResult, len(want))
	for j, i := range want {
		out[i] = fileAnswer(res[j])
		if d := files[i].Digests[checksum.SHA256]; d != nil {
			fresh[string(d)] = res[j]
		}
	}
	if caching {
		_ = s.cache.CacheVerdicts(ctx, fresh, now, s.ttl) // a busy database only costs a later request
	}
	return out, nil
}

// fileAnswer turns the server's result into an answer. A verdict the
// client did not validate cannot come here: client.LookupFiles refuses it.
func fileAnswer(r api.FileResult) reputation.Answer {
	v, err := reputation.ParseVerdict(r.Verdict)
	if err != nil {
		v = reputation.Unknown
	}
	res := reputation.Result{Verdict: v, ThreatName: untrusted.Text(r.Threat, untrusted.NameLen),
		Category: untrusted.Text(r.Category, untrusted.NameLen), Prevalence: max(r.Prevalence, 0)}
	if v != reputation.Unknown {
		res.Sources = []string{ServerName}
	}
	if r.FirstSeen != nil {
		res.FirstSeen = *r.FirstSeen
	}
	if r.LastSeen != nil {
		res.LastSeen = *r.LastSeen
	}
	return reputation.Answer{Source: ServerName, Trust: reputation.TrustNetwork, Result: res}
}

// LookupLinks sends the distinct prefixes of every link and matches the
// full hashes that come back against each link's own.
func (s *Server) LookupLinks(ctx context.Context, links []reputation.LinkQuery) ([]reputation.Answer, error) {
	var prefixes [][4]byte
	seen := map[[4]byte]bool{}
	for _, l := range links {
		for _, p := range l.Prefixes {
			if !seen[p] {
				seen[p] = true
				prefixes = append(prefixes, p)
			}
		}
	}
	out := make([]reputation.Answer, len(links))
	if len(prefixes) == 0 {
		return out, nil
	}
	ans, err := s.cl.LookupURLs(ctx, prefixes)
	if err != nil {
		return nil, err
	}
	for i, l := range links {
		var hits []reputation.Sourced
		var matched []string
		own, prevalence := ownExpression(l), 0
		for _, e := range l.Entries {
			m, ok := ans.Verdicts[e.Full]
			if !ok {
				continue
			}
			if e.Expression == own {
				prevalence = m.Prevalence // bounded by the client
			}
			v, _ := reputation.ParseVerdict(m.Verdict) // checked by the client
			// The server's operator override of one expression (a host,
			// say) wins over the server's own listings of the link's other
			// expressions, as it does on the server for a file, also when
			// it pins "unknown": the server could as well have left those
			// out, so this gives it no power it lacks. It stays a network
			// answer, under the trust rule like any other.
			overridden := slices.Contains(m.Sources, reputation.OverrideSource)
			if v == reputation.Unknown && !overridden {
				continue // a match for its prevalence only: no verdict, no source
			}
			source := ServerName
			if overridden {
				source = reputation.OverrideSource
			}
			hits = append(hits, reputation.Sourced{Source: source, FileIndicator: reputation.FileIndicator{
				Verdict: v, ThreatName: untrusted.Text(m.Threat, untrusted.NameLen),
				Category: untrusted.Text(m.Category, untrusted.NameLen), Size: -1}})
			matched = append(matched, e.Expression)
		}
		res := reputation.Result{Verdict: reputation.Unknown}
		if best := reputation.Merge(hits); best.Verdict != reputation.Unknown {
			res = reputation.Result{Verdict: best.Verdict, ThreatName: best.ThreatName, Category: best.Category, Sources: []string{ServerName}}
		} else {
			matched = nil // an override to unknown: nothing the network knows
		}
		res.Prevalence = prevalence
		out[i] = reputation.Answer{Source: ServerName, Trust: reputation.TrustNetwork, Result: res, Matched: matched}
	}
	return out, nil
}

// ownExpression is the expression of a link's exact host and path, without
// its query: the form a url record carries, so the one whose prevalence
// (participants who reported the link) is the link's. A report of a
// shorter expression ("host/") is another link's, not this one's.
func ownExpression(l reputation.LinkQuery) string {
	if len(l.Entries) == 0 {
		return ""
	}
	own, _, _ := strings.Cut(l.Entries[0].Expression, "?")
	return own
}
