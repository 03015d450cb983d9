package network

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/feeds"
	"github.com/ksnproject/ksn/pkg/participation"
)

// Report is what `ksn status` shows: participation, the statement, the
// outbox, the feeds, the endpoint, the license as the server sees it, the
// public sources, and whether the network can be used, and if not, why
// and what to do. Its JSON form is the documented schema of `ksn status
// --json` (README): fields are only ever added, never renamed.
type Report struct {
	Participation Participation  `json:"participation"`
	Statement     StatementState `json:"statement"`
	Outbox        OutboxSummary  `json:"outbox"`
	// Feeds are the local database's feeds; nil when their settings or
	// state cannot be read (the rest is reported anyway).
	Feeds    *feeds.Status `json:"feeds,omitempty"`
	Endpoint string        `json:"endpoint"`
	// InsecureTransport is set while the user allows a plain http://
	// endpoint on another machine.
	InsecureTransport bool         `json:"insecure_transport,omitempty"`
	License           *api.License `json:"license,omitempty"` // as the server reports it; nil when not asked
	// Sources are the public sources, as earlier runs left them.
	Sources    []SourceStatus `json:"sources"`
	Connection `json:"connection"`
}

// Participation is the effective participation (Status) and where the
// decisions are recorded.
type Participation struct {
	State         participation.State `json:"state"`
	Level         Level               `json:"level,omitempty"`
	Participating bool                `json:"participating"`
	Reason        string              `json:"reason,omitempty"` // why not, when not
	DecidedBy     string              `json:"decided_by"`
	StateFile     string              `json:"state_file"` // "" when the state directory is unusable
	Decision      *Decision           `json:"decision"`   // the latest, if any
}

// Describe is the participation in one human line (DescribeState), with
// what decided it when that was not the recorded decisions.
func (p Participation) Describe() string {
	s := DescribeState(Status{Participating: p.Participating, Level: p.Level, Reason: p.Reason})
	if p.DecidedBy != "" && p.DecidedBy != "decision" {
		s += " (decided by " + p.DecidedBy + ")"
	}
	return s
}

// StatementState is the statement in force and whether it was accepted.
type StatementState struct {
	ID         string     `json:"id"`
	SHA256     string     `json:"sha256"`
	Source     string     `json:"source"`
	Accepted   bool       `json:"accepted"`
	AcceptedAt *time.Time `json:"accepted_at"`
}

// Connection is whether the network can be used. When it cannot, Reason
// is machine-readable ("not-participating", "offline", "license-blocked",
// "rate-limited", "service-error", "statement-changed", "configuration"),
// Detail says more, Hint is the command that fixes it, and Code is the
// exit code.
type Connection struct {
	Connected bool          `json:"connected"`
	Reason    string        `json:"reason,omitempty"`
	Detail    string        `json:"detail,omitempty"`
	Hint      string        `json:"hint,omitempty"`
	Code      exitcode.Code `json:"exit_code"`
}

// Diagnose fills a Report. It asks the endpoint for its status (one
// request) only while the user participates with an endpoint set.
func (c *Consent) Diagnose(ctx context.Context) (Report, error) {
	st := c.status
	r := Report{Endpoint: c.Endpoint(), InsecureTransport: c.settings.Bool("insecure_transport"),
		Participation: Participation{State: st.State, Level: st.Level, Participating: st.Participating, Reason: st.Reason,
			DecidedBy: st.DecidedBy, StateFile: c.StateFile(), Decision: st.Decision}}
	var stats OutboxStats
	if c.store != nil {
		var err error
		if stats, err = c.store.Stats(ctx); err != nil {
			return r, err
		}
	}
	r.Outbox = c.summarize(stats)
	r.Feeds = feedsStatus(c.env.Paths, c.settings)
	r.Statement = StatementState{ID: c.statement.ID, SHA256: c.statement.SHA256, Source: c.statement.Source}
	if d := c.status.Decision; d != nil && d.Accepted && d.StatementID == c.statement.ID {
		at := d.At.UTC()
		r.Statement.Accepted, r.Statement.AcceptedAt = true, &at
	}
	var err error
	if r.Sources, err = PublicStatus(c, time.Now()); err != nil {
		return r, err
	}
	r.Connection = c.localReason()
	if r.Reason == "offline" && r.Detail == client.DetailNoEndpoint {
		if conn, ok := publicOnly(r.Sources); ok {
			r.Connection = conn
		}
	} else if r.Reason == "" {
		r.Connection = c.probe(ctx, &r)
	}
	r.Connected = r.Code == exitcode.OK && r.Reason == ""
	return r, nil
}

// localReason is the first reason available without the network.
func (c *Consent) localReason() Connection {
	st := c.status
	switch {
	case st.Reason == "statement-changed":
		return Connection{Reason: "statement-changed", Detail: "the statement in force is " + c.statement.ID + ", you accepted " + st.Decision.StatementID,
			Hint: "read the new statement and accept it: ksn optin", Code: exitcode.NotParticipate}
	case st.Reason == "endpoint-changed":
		return Connection{Reason: "statement-changed", Detail: "you accepted the statement of " + describeEndpoint(*st.Decision.Endpoint) + ", not of " + describeEndpoint(c.Endpoint()),
			Hint: "read this server's statement and accept it: ksn optin", Code: exitcode.NotParticipate}
	case st.Reason == "do-not-track":
		return Connection{Reason: "not-participating", Detail: "paused by DO_NOT_TRACK", Hint: "unset DO_NOT_TRACK to resume", Code: exitcode.NotParticipate}
	case st.Reason == "participation-off":
		return Connection{Reason: "not-participating", Detail: "paused by KSN_PARTICIPATION=off", Hint: "unset KSN_PARTICIPATION to resume", Code: exitcode.NotParticipate}
	case st.Reason == "state-unavailable":
		return Connection{Reason: "not-participating", Detail: "the state directory cannot be used: " + c.openErr.Error(),
			Hint: "make " + c.env.Paths.State + " writable, or set KSN_HOME to a directory you own", Code: exitcode.NotParticipate}
	case !st.Participating:
		return Connection{Reason: "not-participating", Detail: st.Reason, Hint: "read the statement and choose: ksn optin", Code: exitcode.NotParticipate}
	case c.Endpoint() == "":
		return Connection{Reason: "offline", Detail: "no-endpoint", Hint: "set the reputation server: ksn config set endpoint https://ksn.example.org", Code: exitcode.Offline}
	}
	return Connection{} // ask the network
}

// probe asks the endpoint for its status: one request, made only while
// participating. It settles the reasons only the server can give, and
// remembers (or forgets) the wait the server asks for.
func (c *Consent) probe(ctx context.Context, r *Report) Connection {
	cl, err := c.newClient()
	if err != nil { // a configuration mistake, not a network failure
		return Connection{Reason: "configuration", Detail: err.Error(), Hint: "fix it with ksn config set, or ksn license activate <key>", Code: exitcode.Usage}
	}
	st, err := cl.Status(ctx)
	var ce *client.Error
	paths, endpoint := c.env.Paths, c.Endpoint()
	if errors.As(err, &ce) {
		rememberBackoff(paths, waitLookups, endpoint, ce, time.Now())
		msg := ce.Message
		if msg == "" && (ce.Detail == client.DetailProtocol || ce.Detail == client.DetailTLS) {
			// What the server got wrong, or why its certificate was
			// refused (the x509 reason).
			// Error() begins with the reason in words ("service error: "),
			// which the report shows already.
			_, msg, _ = strings.Cut(ce.Error(), ": ")
		}
		return Connection{Reason: string(ce.Reason), Detail: ce.Detail + messageSuffix(msg), Hint: ce.Hint(), Code: ce.ExitCode()}
	}
	if err != nil {
		return Connection{Reason: "offline", Detail: err.Error(), Code: exitcode.Offline}
	}
	wait, waiting := settleBackoff(paths, endpoint, time.Now())
	r.License = &st.License
	r.Statement.ID, r.Statement.SHA256, r.Statement.Source = st.Statement.ID, st.Statement.SHA256, endpoint
	d := c.status.Decision
	r.Statement.Accepted = statementMatches(st.Statement, d)
	if !r.Statement.Accepted {
		r.Statement.AcceptedAt = nil
		return Connection{Reason: "statement-changed", Detail: "the server's statement is " + st.Statement.ID + ", you accepted " + d.StatementID,
			Hint: "read the new statement and accept it: ksn optin", Code: exitcode.NotParticipate}
	}
	if st.FileReputation == "restricted" {
		// The server answers, but it would refuse every file lookup: for
		// the user that is a wait, like a rate limit.
		e := &client.Error{Reason: client.ReasonRateLimited, Detail: client.DetailRestricted, Status: 503,
			RetryAfter: time.Duration(min(max(st.RestrictedSeconds, 1), int(client.MaxRetryAfter/time.Second))) * time.Second} // the server's number, bounded
		rememberBackoff(paths, waitLookups, endpoint, e, time.Now())
		return Connection{Reason: string(e.Reason), Detail: e.Detail + ": " + strings.TrimPrefix(e.Error(), "rate-limited: "), Hint: e.Hint(), Code: e.ExitCode()}
	}
	if waiting {
		// The server answers, but the next lookups wait as it asked.
		e := waitError(wait, endpoint, time.Now())
		return Connection{Reason: string(e.Reason), Detail: e.Detail + ": " + strings.TrimPrefix(e.Error(), "rate-limited: "), Hint: e.Hint(), Code: e.ExitCode()}
	}
	return Connection{}
}

func messageSuffix(m string) string {
	if m == "" {
		return ""
	}
	return ": " + m
}

// feedsStatus is the feeds' part of a report; nil when their settings or
// state cannot be read.
func feedsStatus(p config.Paths, s *config.Settings) *feeds.Status {
	l, err := feeds.LoadListing(p, s)
	if err != nil {
		return nil
	}
	st := l.Status(time.Now())
	return &st
}

// describeEndpoint names the server an acceptance was given for.
func describeEndpoint(e string) string {
	if e == "" {
		return "no server (ksn's built-in statement, with no endpoint set)"
	}
	return e
}
