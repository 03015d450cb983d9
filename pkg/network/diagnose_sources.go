package network

import (
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/sources"
)

// SourceStatus is a public source as `ksn status` and `ksn source list`
// show it. State is one of "not-configured" (not enabled), "not-used"
// (enabled, but the user does not participate), "not-used-yet" (enabled,
// never asked), "connected" (it answered last time), "key-rejected",
// "rate-limited" (Until says until when), "offline" and "service-error".
// It comes from what earlier runs learnt: status sends a third party
// nothing, since a request would cost quota and tell it a digest. Its
// JSON form is the documented schema of a source in `ksn source list
// --json` and in the "sources" of `ksn status --json`.
type SourceStatus struct {
	SourceConfig
	State         string    `json:"state"`
	Detail        string    `json:"detail,omitempty"`
	Hint          string    `json:"hint,omitempty"`
	At            time.Time `json:"at,omitzero"`    // of the last answer, or of the failure; UTC
	Until         time.Time `json:"until,omitzero"` // rate-limited; UTC
	RequestsToday int       `json:"requests_today"`
}

// PublicStatus describes every public source at now; participating says
// whether they may be used at all.
func PublicStatus(c *Consent, now time.Time) ([]SourceStatus, error) {
	cfgs, err := Sources(c.env.Paths)
	if err != nil {
		return nil, err
	}
	mem := loadMemory(c.env.Paths)
	out := make([]SourceStatus, 0, len(cfgs))
	for _, cfg := range cfgs {
		st := SourceStatus{SourceConfig: cfg}
		m := mem[cfg.Name]
		if m.URL != cfg.BaseURL {
			m = sourceMemory{}
		}
		st.RequestsToday = m.requestsOn(now)
		switch {
		case !cfg.Enabled:
			st.State, st.Hint = "not-configured", "ksn source enable "+cfg.Name
			if cfg.NeedsKey {
				st.Hint += " --key-file FILE"
			}
		case !c.status.Participating:
			st.State, st.Detail = "not-used", "used only while you participate"
			st.Hint = "read the statement and choose: ksn optin"
		case m.Until.After(now):
			st.State, st.Until, st.At, st.Detail = sources.ReasonRateLimited, m.Until, m.At, m.Detail
			st.Hint = "it is asked again after " + formatTime(m.Until)
		case cfg.DailyQuota > 0 && st.RequestsToday >= cfg.DailyQuota:
			st.State, st.Until = sources.ReasonRateLimited, sources.NextUTCDay(now)
			st.Detail = "its daily quota is used up"
		case m.Reason == sources.ReasonKeyRejected && m.At.After(cfg.EnabledAt):
			st.State, st.At, st.Detail = m.Reason, m.At, m.Detail
			st.Hint = "give it a valid key: ksn source enable " + cfg.Name + " --key-file FILE"
		case m.Reason != "" && m.Reason != sources.ReasonRateLimited:
			st.State, st.At, st.Detail = m.Reason, m.At, m.Detail
		case !m.LastOK.IsZero():
			st.State, st.At = "connected", m.LastOK
		default:
			st.State = "not-used-yet"
		}
		// What was remembered keeps the zone it was written in; a status
		// speaks UTC.
		st.At, st.Until = st.At.UTC(), st.Until.UTC()
		out = append(out, st)
	}
	return out, nil
}

// Code is the exit code of a source's state, as a run that used it now
// would end (0 when it would answer).
func (st SourceStatus) Code() exitcode.Code {
	switch st.State {
	case sources.ReasonKeyRejected:
		return exitcode.LicenseBlocked
	case sources.ReasonRateLimited:
		return exitcode.RateLimited
	case sources.ReasonOffline:
		return exitcode.Offline
	case sources.ReasonService:
		return exitcode.ServiceError
	}
	return exitcode.OK
}

// publicOnly is the connection of a participant without an endpoint who
// enabled public sources: the network they use is those sources, so the
// state of the first one that would fail decides, and there is no
// endpoint to complain about.
func publicOnly(srcs []SourceStatus) (Connection, bool) {
	enabled := false
	for _, st := range srcs {
		if !st.Enabled {
			continue
		}
		enabled = true
		if code := st.Code(); code != exitcode.OK {
			return Connection{Reason: st.State, Detail: st.Name + ": " + orDefault(st.Detail, st.State), Hint: st.Hint, Code: code}, true
		}
	}
	if !enabled {
		return Connection{}, false
	}
	return Connection{Detail: "no endpoint; public sources only"}, true
}
