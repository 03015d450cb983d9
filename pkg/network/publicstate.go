package network

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/sources"
)

// What ksn learnt of each public source is remembered across runs in the
// cache directory, as a server's Retry-After is (backoff.go): a quota
// spent until midnight, or a key refused, holds back the next runs, which
// send that source nothing until the wait is over or the user enables it
// again; and the requests sent each UTC day, so that a known daily quota
// is kept without asking. `ksn status` reads it: it sends third parties
// nothing (a request would cost quota).
const memoryFile = "sources-state.json"

// sourceMemory is what one source's last runs learnt.
type sourceMemory struct {
	URL      string    `json:"url"` // the base it is about: another starts afresh
	Day      string    `json:"day,omitempty"`
	Requests int       `json:"requests,omitempty"` // sent on Day (UTC)
	LastOK   time.Time `json:"last_ok,omitzero"`
	Reason   string    `json:"reason,omitempty"` // of the last failure (a sources reason)
	Detail   string    `json:"detail,omitempty"`
	At       time.Time `json:"at,omitzero"`
	Until    time.Time `json:"until,omitzero"` // rate-limited: not before
}

func memoryPath(p config.Paths) string { return filepath.Join(p.Cache, memoryFile) }

// loadMemory reads what is remembered; nothing when it cannot.
func loadMemory(p config.Paths) map[string]sourceMemory {
	m := map[string]sourceMemory{}
	if b, err := os.ReadFile(memoryPath(p)); err == nil {
		_ = json.Unmarshal(b, &m) // a damaged file is forgotten: the next runs ask
	}
	if m == nil {
		m = map[string]sourceMemory{}
	}
	return m
}

// saveMemory writes it back. Failing to is harmless: the next run asks,
// and is told again.
func saveMemory(p config.Paths, m map[string]sourceMemory) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil || os.MkdirAll(p.Cache, 0o700) != nil {
		return
	}
	tmp, err := os.CreateTemp(p.Cache, ".sources-state-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	if cerr := tmp.Close(); werr != nil || cerr != nil || os.Rename(tmp.Name(), memoryPath(p)) != nil {
		os.Remove(tmp.Name())
	}
}

// forgetMemory drops what is remembered of a source (enabled afresh, or
// disabled).
func forgetMemory(p config.Paths, name string) {
	m := loadMemory(p)
	if _, ok := m[name]; ok {
		delete(m, name)
		saveMemory(p, m)
	}
}

func utcDay(t time.Time) string { return t.UTC().Format("2006-01-02") }

// requestsOn is how many requests the memory counts on now's UTC day.
func (m sourceMemory) requestsOn(now time.Time) int {
	if m.Day == utcDay(now) {
		return m.Requests
	}
	return 0
}

// remember records a batch's outcome: sent more requests, and err (nil
// when the source answered). A spent quota the answers reported is a
// wait until the next UTC day.
func remember(p config.Paths, name, base string, sent int, spent bool, err error, now time.Time) {
	all := loadMemory(p)
	m := all[name]
	if m.URL != base {
		m = sourceMemory{URL: base}
	}
	if m.Day != utcDay(now) {
		m.Day, m.Requests = utcDay(now), 0
	}
	m.Requests += sent
	var se *sources.Error
	switch {
	case err == nil && spent:
		m.Reason, m.Detail, m.At, m.Until = sources.ReasonRateLimited, "its answers say the daily quota is used up", now, sources.NextUTCDay(now)
	case err == nil:
		m.LastOK, m.Reason, m.Detail, m.At, m.Until = now, "", "", time.Time{}, time.Time{}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return // the run was stopped; the source did nothing wrong
	case errors.As(err, &se):
		m.Reason, m.At, m.Until = se.Reason, now, se.Until
		m.Detail = se.Reason
		if se.Err != nil {
			m.Detail = se.Err.Error()
		}
	default:
		m.Reason, m.Detail, m.At = sources.ReasonService, err.Error(), now
	}
	all[name] = m
	saveMemory(p, all)
}
