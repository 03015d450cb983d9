package network

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/participation"
)

// StatementInForce is the statement a user is asked to accept: the
// endpoint's when one is configured and answers, else the built-in one
// (DESIGN §3). Fetching it is the only request made before participating,
// and only `ksn optin` and `ksn statement`, which the user runs to read it,
// make it; the request carries no data and no license key.
func (c *Consent) StatementInForce(ctx context.Context, msg Messages) Statement {
	endpoint := c.Endpoint()
	if endpoint == "" {
		return participation.Builtin()
	}
	if r := c.status.Reason; r == "do-not-track" || r == "participation-off" {
		// A pause means no request at all, not even for the statement.
		msg.Warnf("%s: the endpoint is not asked for its statement; this is the one built into ksn", DescribeState(c.status))
		return participation.Builtin()
	}
	o, err := c.clientOptions()
	var cl *client.Client
	if err == nil {
		cl, err = client.New(o)
	}
	if err == nil {
		var st api.Statement
		if st, err = cl.Statement(ctx); err == nil {
			return participation.NewStatement(st.ID, st.Text, endpoint)
		}
	}
	msg.Warnf("the statement of %s could not be fetched (%v); this is the statement built into ksn", endpoint, err)
	return participation.Builtin()
}

// StatementToShow is the statement `ksn statement` prints: the one in
// force (StatementInForce) for a user who asks for the endpoint's
// (fromEndpoint) or who already took part (also one paused because the
// statement or the endpoint changed); else the built-in one, and nobody is
// asked.
func (c *Consent) StatementToShow(ctx context.Context, msg Messages, fromEndpoint bool) Statement {
	if st := c.Status(); fromEndpoint || st.Participating || st.Reason == "statement-changed" || st.Reason == "endpoint-changed" {
		return c.StatementInForce(ctx, msg)
	}
	return participation.Builtin()
}

// endpointRef is the endpoint in force, for a decision to record: the
// server an acceptance is given for.
func (c *Consent) endpointRef() *string {
	e := c.Endpoint()
	return &e
}

// Decline records that the user declined statement st (at a prompt).
func (c *Consent) Decline(ctx context.Context, st Statement) (Decision, error) {
	if err := c.Usable(); err != nil {
		return Decision{}, err
	}
	return c.store.Record(ctx, participation.Decision{
		At: time.Now().UTC(), Accepted: false, StatementID: st.ID, StatementSHA256: st.SHA256,
		Via: participation.ViaTerminal, Version: c.env.Version, Endpoint: c.endpointRef(),
	})
}

// Outcome is what an opt-in or an opt-out did. Its JSON form is the
// documented output of `ksn optin --json` and `ksn optout --json`.
type Outcome struct {
	Decision *Decision `json:"decision"`
	// Participating and Reason are the participation an opt-in results
	// in, narrowed by the environment (DO_NOT_TRACK...); an opt-out
	// leaves both empty: it never participates.
	Participating bool   `json:"participating"`
	Reason        string `json:"reason,omitempty"`
	Sent          int    `json:"sent,omitempty"`       // collected records delivered at once
	Dropped       int    `json:"dropped,omitempty"`    // past outbox.max_age, dropped rather than sent
	Purged        int    `json:"purged,omitempty"`     // deleted by an opt-out with purge
	Outbox        int    `json:"outbox"`               // records left in the outbox
	SendError     string `json:"send_error,omitempty"` // why the backlog could not be sent yet (it stays)
	// Now is the participation an opt-in results in.
	Now Status `json:"-"`
}

// Optout records that the user stops participating, offline, at once;
// with purge the outbox is deleted too.
func (c *Consent) Optout(ctx context.Context, purge bool) (Outcome, error) {
	var o Outcome
	if err := c.Usable(); err != nil {
		return o, err
	}
	st := c.statement
	d, err := c.store.Record(ctx, participation.Decision{
		At: time.Now().UTC(), Accepted: false, StatementID: st.ID, StatementSHA256: st.SHA256,
		Via: participation.ViaFlag, Version: c.env.Version, Endpoint: c.endpointRef(),
	})
	if err != nil {
		return o, err
	}
	o.Decision = &d
	if purge {
		if o.Purged, err = c.store.Clear(ctx); err != nil {
			return o, err
		}
	}
	stats, err := c.store.Stats(ctx)
	o.Outbox = stats.Records
	return o, err
}

// Accept records the user's acceptance of st at level, given at a
// terminal (terminal) or by a flag, then drops the backlog older than
// outbox.max_age and, at the extended level, sends the rest to the
// server whose statement was accepted ("as soon as you begin to
// participate, all the previously obtained data will be sent").
func (c *Consent) Accept(ctx context.Context, st Statement, level Level, terminal bool) (Outcome, error) {
	var o Outcome
	if err := c.Usable(); err != nil {
		return o, err
	}
	via := participation.ViaFlag
	if terminal {
		via = participation.ViaTerminal
	}
	d, err := c.store.Record(ctx, participation.Decision{
		At: time.Now().UTC(), Accepted: true, Level: level, StatementID: st.ID, StatementSHA256: st.SHA256,
		Via: via, Version: c.env.Version, Endpoint: c.endpointRef(),
	})
	if err != nil {
		return o, err
	}
	o.Decision = &d
	// A backlog of years ago is not what the user agreed to send today.
	if _, _, maxAge := c.OutboxLimits(); maxAge > 0 {
		if o.Dropped, err = c.store.DropOlderThan(ctx, time.Now().Add(-maxAge)); err != nil {
			return o, err
		}
	}
	stats, err := c.store.Stats(ctx)
	if err != nil {
		return o, err
	}
	o.Now = participation.Evaluate(&d, c.env.Getenv, st, c.Endpoint())
	o.Participating, o.Reason = o.Now.Participating, o.Now.Reason
	endpoint := c.Endpoint()
	// Sent only to the server whose statement was accepted, and only once
	// that server confirms it is still the statement in force.
	if o.Now.Participating && endpoint != "" && st.Source == endpoint && level == participation.Extended && stats.Records > 0 {
		var sendErr error
		if o.Sent, sendErr = c.sendBacklog(ctx, &d); sendErr != nil {
			o.SendError = sendErr.Error()
		}
		if stats, err = c.store.Stats(ctx); err != nil {
			return o, err
		}
	}
	o.Outbox = stats.Records
	return o, nil
}

// AcceptInForce is the OptinRequest.Accept that accepts the statement in
// force, whatever its SHA-256.
const AcceptInForce = "statement-in-force"

// OptinRequest is how a user opts in.
type OptinRequest struct {
	Level Level
	// Accept is "" to ask the user (Ask), AcceptInForce, or the SHA-256
	// the statement in force must have to be accepted.
	Accept string
	// Ask shows the user the statement and what becomes of the backlog
	// (a sentence), and says whether they accept it.
	Ask func(st Statement, backlog string) (bool, error)
}

// Optin is `ksn optin`: the statement in force is fetched, then accepted
// (at the user's answer, or by the request), and the backlog handled as
// Accept does; or the refusal at the prompt is recorded, and the outcome's
// decision says it was declined. A statement that is not the one pinned
// is a usage error, and nothing is recorded.
func (c *Consent) Optin(ctx context.Context, msg Messages, req OptinRequest) (Outcome, error) {
	st := c.StatementInForce(ctx, msg)
	stats, err := c.OutboxStats(ctx)
	if err != nil {
		return Outcome{}, err
	}
	terminal := false
	switch {
	case req.Accept == AcceptInForce:
	case req.Accept != "":
		if !strings.EqualFold(strings.TrimSpace(req.Accept), st.SHA256) {
			return Outcome{}, &exitcode.Error{Code: exitcode.Usage, Hint: "read the statement with 'ksn statement' and pin its SHA-256",
				Err: fmt.Errorf("the statement in force (%s) has SHA-256 %s, not %s: nothing was accepted", st.ID, st.SHA256, req.Accept)}
		}
	default:
		_, _, maxAge := c.OutboxLimits()
		yes, err := req.Ask(st, BacklogSentence(stats, req.Level, maxAge, c.Endpoint(), time.Now()))
		if err != nil {
			return Outcome{}, err
		}
		if !yes {
			d, err := c.Decline(ctx, st)
			return Outcome{Decision: &d}, err
		}
		terminal = true
	}
	return c.Accept(ctx, st, req.Level, terminal)
}

// sendBacklog delivers the outbox right after an acceptance d.
func (c *Consent) sendBacklog(ctx context.Context, d *participation.Decision) (int, error) {
	cl, err := c.newClient()
	if err != nil {
		return 0, err
	}
	status, err := cl.Status(ctx)
	if err != nil {
		return 0, err
	}
	if !statementMatches(status.Statement, d) {
		return 0, fmt.Errorf("the server's statement changed while you read it (now %s)", status.Statement.ID)
	}
	return deliverOutbox(ctx, cl, c.store, func(ctx context.Context) error {
		return stillAccepted(ctx, c.store, d)
	})
}
