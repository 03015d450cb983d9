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
// asks (it is how a user finds out whether the wait is over) and clears it
// when the server answers. Lookups and submissions have separate limits on
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

// forgetBackoff ends the remembered waits: the server answered.
func forgetBackoff(p config.Paths) {
	os.Remove(backoffPath(p, waitLookups))
	os.Remove(backoffPath(p, waitSubmit))
}

// waitError is the error of a run that does not ask the server because
// it asked to wait: the remaining wait, as the server's own answer gives it.
func waitError(w backoff, endpoint string, now time.Time) *client.Error {
	return &client.Error{Reason: client.ReasonRateLimited, Detail: w.Detail, Status: 429,
		RetryAfter: w.Until.Sub(now).Round(time.Second), Endpoint: endpoint}
}
