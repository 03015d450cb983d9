package server

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

// Problem types this server adds to api's for conditions no client has to
// act on: they are bugs in the caller (wrong URL, wrong method), and a
// client maps them by their status code to a service error.
const (
	problemNotFound         = "not-found"
	problemMethodNotAllowed = "method-not-allowed"
)

// problem is an error response in the making.
type problem struct {
	Status     int
	Type       string
	Detail     string
	RetryAfter int // seconds; also sent as the Retry-After header
}

// writeProblem sends p as application/problem+json. The title is the
// status text, so that it never carries request data.
func writeProblem(w http.ResponseWriter, _ *http.Request, p problem) {
	body := api.Problem{
		Type:       p.Type,
		Title:      http.StatusText(p.Status),
		Status:     p.Status,
		Detail:     p.Detail,
		RetryAfter: p.RetryAfter,
	}
	h := w.Header()
	h.Set("Content-Type", api.ProblemContentType)
	h.Set("Cache-Control", "no-store")
	if p.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	if p.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="ksn"`)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(body)
}

// retrySeconds rounds a wait up to whole seconds, at least 1: Retry-After
// carries seconds, and a client told 0 would retry at once and fail again.
func retrySeconds(d time.Duration) int {
	s := math.Ceil(d.Seconds())
	if s < 1 {
		return 1
	}
	if s > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(s)
}

// writeJSON sends v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
