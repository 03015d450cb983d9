package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/store"
	"golang.org/x/time/rate"
)

// licensedHandler is a handler that runs for a valid license.
type licensedHandler func(w http.ResponseWriter, r *http.Request, lic store.License)

// authed checks the request's license key before h runs: a missing or
// unknown key is 401 not-activated, a denylisted one 403
// license-denylisted, an expired one 403 license-expired.
func (s *Server) authed(h licensedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, ok := bearer(r)
		if !ok {
			writeProblem(w, r, problem{Status: http.StatusUnauthorized, Type: api.ProblemNotActivated,
				Detail: "no license key: send Authorization: Bearer <key>"})
			return
		}
		lic, err := s.license(r.Context(), key)
		if errors.Is(err, store.ErrNotFound) {
			writeProblem(w, r, problem{Status: http.StatusUnauthorized, Type: api.ProblemNotActivated,
				Detail: "this server does not know the license key"})
			return
		}
		if err != nil {
			s.storeFailed(w, r, err)
			return
		}
		info(r).licenseID = lic.ID
		switch lic.State(s.now()) {
		case store.LicenseDenylisted:
			writeProblem(w, r, problem{Status: http.StatusForbidden, Type: api.ProblemLicenseDenylisted,
				Detail: "the license was revoked"})
			return
		case store.LicenseExpired:
			writeProblem(w, r, problem{Status: http.StatusForbidden, Type: api.ProblemLicenseExpired,
				Detail: "the license expired on " + lic.ExpiresAt.UTC().Format(time.RFC3339)})
			return
		}
		h(w, r, lic)
	}
}

// bearer returns the key of an "Authorization: Bearer <key>" header (the
// scheme is case-insensitive, RFC 9110).
func bearer(r *http.Request) (string, bool) {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	key = strings.TrimSpace(key)
	return key, key != ""
}

// charge takes cost items from the license's token bucket. When the bucket
// cannot pay, it answers 429 rate-limited with the wait and returns false;
// nothing is taken then, so a client that waits as told gets through.
// A batch larger than the bucket costs the whole bucket, so that the
// largest batch the API allows is never refused forever.
func (s *Server) charge(w http.ResponseWriter, r *http.Request, lic store.License, cost int) bool {
	b := bucket{lic.ID, r.URL.Path == api.PathSubmissions}
	burst := s.cfg.Burst
	if b.submit {
		burst = s.cfg.SubmitBurst
	}
	cost = max(1, min(cost, burst))
	now := s.now()
	res := s.budget(b).lim.ReserveN(now, cost)
	if !res.OK() { // cannot happen with cost ≤ burst; refuse rather than wait forever
		writeProblem(w, r, problem{Status: http.StatusTooManyRequests, Type: api.ProblemRateLimited,
			Detail: "batch too large for the license's rate", RetryAfter: 60})
		return false
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		secs := retrySeconds(d)
		writeProblem(w, r, problem{Status: http.StatusTooManyRequests, Type: api.ProblemRateLimited,
			Detail: "the license's rate is exceeded; retry after the given wait", RetryAfter: secs})
		return false
	}
	return true
}

// bucket names one of a license's two token buckets. Lookups and
// submissions are limited apart, each at its own rate, so that a
// client delivering a large backlog does not find its next lookups
// refused, and a burst of lookups does not hold the backlog back.
type bucket struct {
	license int64
	submit  bool
}

// budget is what one license may use of one class of requests: its token
// bucket, starting full, and its share of the class's body-reading turns
// (limits.go): half of them. The turns are shared by every license, and
// one that held them all with bodies sent slowly would stall everyone
// else's lookups; with half, it stalls only its own requests, which wait
// for its share.
type budget struct {
	lim   *rate.Limiter
	share turns
}

// budget returns b's budget. Budgets live as long as the process: two for
// each license in use.
func (s *Server) budget(b bucket) *budget {
	s.mu.Lock()
	defer s.mu.Unlock()
	bg, ok := s.budgets[b]
	if !ok {
		lim := rate.NewLimiter(rate.Limit(s.cfg.Rate), s.cfg.Burst)
		if b.submit {
			lim = rate.NewLimiter(rate.Limit(s.cfg.SubmitRate), s.cfg.SubmitBurst)
		}
		bg = &budget{lim: lim, share: make(turns, max(s.cfg.MaxDecoding/2, 1))}
		s.budgets[b] = bg
	}
	return bg
}

// restricted reports whether the operator switched file reputation off,
// and for how long still. The switch lives in the database (so that every
// replica and `ksn admin` beside a running server share it) and is read at
// most once a second, by one request while the others go on with the
// last known state: a database busy with an import must not hold every
// lookup up behind the switch. When it cannot be read, the last known
// state holds.
func (s *Server) restricted(r *http.Request) (bool, time.Duration) {
	now := s.now()
	s.restrMu.Lock()
	stale := s.restrChecked.IsZero() || now.Sub(s.restrChecked) >= restrictionCheckEvery || now.Before(s.restrChecked)
	refresh := stale && !s.restrReading
	if refresh {
		s.restrReading = true
	}
	s.restrMu.Unlock()

	if refresh {
		until, err := s.cfg.Store.Restriction(r.Context())
		s.restrMu.Lock()
		if err != nil {
			s.log.Warn("cannot read the file-reputation switch", "error", err)
		} else {
			s.restrUntil = until
		}
		s.restrChecked = now
		s.restrReading = false
		s.restrMu.Unlock()
	}

	s.restrMu.Lock()
	until := s.restrUntil
	s.restrMu.Unlock()
	if !until.IsZero() && now.Before(until) {
		return true, until.Sub(now)
	}
	return false, 0
}
