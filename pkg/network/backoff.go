package network

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/config"
)

// A server's Retry-After outlives the run that received it: a loop of short
// commands (find -exec ksn check) then waits as it was told instead of
// asking again at once, which is the storm the header exists to prevent.
// The wait is kept in the cache directory, per endpoint; `ksn status` still
// asks (it is how a user finds out whether the wait is over) and clears a
// restriction the answer says is lifted (settleBackoff). Lookups and submissions have separate limits on
// the server, so a wait told to a delivery (kind "submit") holds back the
// next deliveries only, and the lookups' wait the lookups only.
type backoff struct {
	Endpoint string    `json:"endpoint"`
	Until    time.Time `json:"until"`
	Detail   string    `json:"detail"` // client.DetailRateLimited or client.DetailRestricted
}

// The kinds of wait.
const (
	waitLookups = "retry-after.json"
	waitSubmit  = "retry-after-submit.json"
)

func backoffPath(p config.Paths, kind string) string { return filepath.Join(p.Cache, kind) }

// loadBackoff returns the wait of a kind still running for endpoint, if any.
func loadBackoff(p config.Paths, kind, endpoint string, now time.Time) (backoff, bool) {
	b, err := os.ReadFile(backoffPath(p, kind))
	if err != nil {
		return backoff{}, false
	}
	var w backoff
	if json.Unmarshal(b, &w) != nil || w.Endpoint != endpoint || !w.Until.After(now) {
		return backoff{}, false
	}
	return w, true
}

// rememberBackoff keeps the wait an error asked for. Failing to is
// harmless: the next run asks the server and is told again.
func rememberBackoff(p config.Paths, kind, endpoint string, err error, now time.Time) {
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Reason != client.ReasonRateLimited || ce.RetryAfter <= 0 {
		return
	}
	b, _ := json.Marshal(backoff{Endpoint: endpoint, Until: now.Add(ce.RetryAfter).UTC(), Detail: ce.Detail})
	if os.MkdirAll(p.Cache, 0o700) != nil {
		return
	}
	tmp, err := os.CreateTemp(p.Cache, ".retry-after-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	if cerr := tmp.Close(); werr != nil || cerr != nil || os.Rename(tmp.Name(), backoffPath(p, kind)) != nil {
		os.Remove(tmp.Name())
	}
}

// settleBackoff is what a status answer (200) ends of the lookups' wait,
// as ksn status asks anyway: a restriction, which the answer says is
// lifted (it would say "restricted" otherwise). A rate limit's wait is
// not: the server's Retry-After was the time until its bucket pays a full
// batch, and a status request, which costs one item, passing shows
// nothing of that; ending it there let the next check send lookups into
// a wait the server had asked for. It returns the wait still running,
// which status reports. The submissions' wait is another bucket's, which
// the status request does not touch: kept.
func settleBackoff(p config.Paths, endpoint string, now time.Time) (backoff, bool) {
	w, ok := loadBackoff(p, waitLookups, endpoint, now)
	if ok && w.Detail == client.DetailRestricted {
		os.Remove(backoffPath(p, waitLookups))
		return backoff{}, false
	}
	return w, ok
}

// waitError is the error of a run that does not ask the server because
// it asked to wait: the remaining wait, as the server's own answer gives it.
func waitError(w backoff, endpoint string, now time.Time) *client.Error {
	return &client.Error{Reason: client.ReasonRateLimited, Detail: w.Detail, Status: 429,
		RetryAfter: w.Until.Sub(now).Round(time.Second), Endpoint: endpoint}
}
