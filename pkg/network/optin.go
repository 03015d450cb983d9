package network

import (
	"context"
	"fmt"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/client"
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

// OutboxStats summarise the local outbox.
func (c *Consent) OutboxStats(ctx context.Context) (OutboxStats, error) {
	if err := c.Usable(); err != nil {
		return OutboxStats{}, err
	}
	return c.store.Stats(ctx)
}

// Records calls fn for every collected record, oldest first, exactly as it
// would be sent.
func (c *Consent) Records(ctx context.Context, fn func(Record) error) error {
	if err := c.Usable(); err != nil {
		return err
	}
	return c.store.Records(ctx, fn)
}

// ClearOutbox deletes every collected record and says how many.
func (c *Consent) ClearOutbox(ctx context.Context) (int, error) {
	if err := c.Usable(); err != nil {
		return 0, err
	}
	return c.store.Clear(ctx)
}

// OutboxLimits are the outbox bounds in force: at most MaxRecords records
// (0: no bound), each kept at most MaxAge (as the setting says it).
func (c *Consent) OutboxLimits() (maxRecords int, maxAge string, maxAgeDur time.Duration) {
	return c.settings.Int("outbox.max_records"), c.settings.String("outbox.max_age"), c.settings.Duration("outbox.max_age")
}

// Decline records that the user declined statement st (at a prompt).
func (c *Consent) Decline(ctx context.Context, st Statement) (Decision, error) {
	if err := c.Usable(); err != nil {
		return Decision{}, err
	}
	return c.store.Record(ctx, participation.Decision{
		At: time.Now().UTC(), Accepted: false, StatementID: st.ID, StatementSHA256: st.SHA256,
		Via: participation.ViaTerminal, Version: c.env.Version,
	})
}

// Optout records that the user stops participating, offline, at once;
// with purge the outbox is deleted too (purged says how many records).
func (c *Consent) Optout(ctx context.Context, purge bool) (d Decision, purged int, err error) {
	if err := c.Usable(); err != nil {
		return Decision{}, 0, err
	}
	st := c.statement
	d, err = c.store.Record(ctx, participation.Decision{
		At: time.Now().UTC(), Accepted: false, StatementID: st.ID, StatementSHA256: st.SHA256,
		Via: participation.ViaFlag, Version: c.env.Version,
	})
	if err != nil || !purge {
		return d, 0, err
	}
	purged, err = c.store.Clear(ctx)
	return d, purged, err
}

// Acceptance is what an opt-in did.
type Acceptance struct {
	Decision Decision
	Stale    int   // records past outbox.max_age, dropped rather than sent
	Sent     int   // collected records delivered at once
	SendErr  error // why the backlog could not be sent yet (it stays)
	Outbox   OutboxStats
	// Now is the participation that results, narrowed by the environment.
	Now Status
}

// Accept records the user's acceptance of st at level, given at a
// terminal (terminal) or by a flag, then drops the backlog older than
// outbox.max_age and, at the extended level, sends the rest to the
// server whose statement was accepted ("as soon as you begin to
// participate, all the previously obtained data will be sent").
func (c *Consent) Accept(ctx context.Context, st Statement, level Level, terminal bool) (Acceptance, error) {
	var a Acceptance
	if err := c.Usable(); err != nil {
		return a, err
	}
	via := participation.ViaFlag
	if terminal {
		via = participation.ViaTerminal
	}
	d, err := c.store.Record(ctx, participation.Decision{
		At: time.Now().UTC(), Accepted: true, Level: level, StatementID: st.ID, StatementSHA256: st.SHA256,
		Via: via, Version: c.env.Version,
	})
	if err != nil {
		return a, err
	}
	a.Decision = d
	// A backlog of years ago is not what the user agreed to send today.
	if _, _, maxAge := c.OutboxLimits(); maxAge > 0 {
		if a.Stale, err = c.store.DropOlderThan(ctx, time.Now().Add(-maxAge)); err != nil {
			return a, err
		}
	}
	if a.Outbox, err = c.store.Stats(ctx); err != nil {
		return a, err
	}
	a.Now = participation.Evaluate(&d, c.env.Getenv, st)
	endpoint := c.Endpoint()
	// Sent only to the server whose statement was accepted, and only once
	// that server confirms it is still the statement in force.
	if a.Now.Participating && endpoint != "" && st.Source == endpoint && level == participation.Extended && a.Outbox.Records > 0 {
		a.Sent, a.SendErr = c.sendBacklog(ctx, &d)
		if a.Outbox, err = c.store.Stats(ctx); err != nil {
			return a, err
		}
	}
	return a, nil
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
