package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/participation"
)

// consent is what a participation-aware command knows: the statement in
// force, the stored decisions and what they add up to with the environment.
type consent struct {
	store     *participation.Store // nil when the state directory is unavailable
	openErr   error                // why store is nil
	statement participation.Statement
	status    participation.Status
	settings  *config.Settings
	paths     config.Paths
}

// loadConsent never fails on an unusable state directory: that degrades to
// "not participating" (the status says why), never to sending.
func loadConsent(ctx context.Context, f *Factory) (*consent, error) {
	paths, err := f.Paths()
	if err != nil {
		return nil, err
	}
	settings, err := config.LoadSettings(paths, f.Env)
	if err != nil {
		return nil, usageError("fix the value with 'ksn config set' or unset the variable", "configuration: %v", err)
	}
	c := &consent{statement: participation.Builtin(), settings: settings, paths: paths}
	c.store, c.openErr = participation.Open(ctx, paths.State)
	if c.openErr != nil {
		c.store = nil
		c.status = participation.Unavailable(c.openErr)
		return c, nil
	}
	latest, err := c.store.Latest(ctx)
	if err != nil {
		c.store.Close()
		c.store, c.openErr = nil, err
		c.status = participation.Unavailable(err)
		return c, nil
	}
	if endpoint := settings.String("endpoint"); endpoint != "" && latest != nil && latest.Accepted {
		// With an endpoint, the statement in force is the server's, and
		// only the server can say whether it changed: status and check ask
		// it. Offline, the accepted statement stands.
		c.statement = participation.Statement{ID: latest.StatementID, SHA256: latest.StatementSHA256, Source: "not checked with the server"}
	}
	c.status = participation.Evaluate(latest, f.Env, c.statement)
	return c, nil
}

// statementInForce is the statement a user is asked to accept: the
// endpoint's when one is configured and answers, else the built-in one
// (DESIGN §3). Fetching it is the only request made before participating,
// and only `ksn optin` and `ksn statement`, which the user runs to read it,
// make it; the request carries no data and no license key.
func statementInForce(ctx context.Context, f *Factory, c *consent) participation.Statement {
	endpoint := c.settings.String("endpoint")
	if endpoint == "" {
		return participation.Builtin()
	}
	if r := c.status.Reason; r == "do-not-track" || r == "participation-off" {
		// A pause means no request at all, not even for the statement.
		f.IO.Warnf("%s: the endpoint is not asked for its statement; this is the one built into ksn", describeState(c.status))
		return participation.Builtin()
	}
	cl, err := client.New(client.Options{Endpoint: endpoint, Timeout: c.settings.Duration("timeout"),
		Proxy: c.settings.String("proxy"), UserAgent: "ksn/" + f.Version})
	if err == nil {
		var st api.Statement
		if st, err = cl.Statement(ctx); err == nil {
			return participation.NewStatement(st.ID, st.Text, endpoint)
		}
	}
	f.IO.Warnf("the statement of %s could not be fetched (%v); this is the statement built into ksn", endpoint, err)
	return participation.Builtin()
}

// errWithdrawn ends network use when participation ended while a command
// ran: a `ksn optout` in another terminal, say.
var errWithdrawn = errors.New("participation was withdrawn while ksn ran: nothing more is sent")

// stillParticipating re-reads the latest decision just before something is
// sent, so that a `ksn optout` run while this command works takes effect
// at its next request, not when it ends.
func (c *consent) stillParticipating(ctx context.Context) error {
	if c.store == nil || !c.status.Participating {
		return errWithdrawn
	}
	return stillAccepted(ctx, c.store, c.status.Decision)
}

// stillAccepted reports errWithdrawn unless the acceptance d is still the
// latest decision. Any newer decision stops sending: a new acceptance is
// for the command that recorded it to act on.
func stillAccepted(ctx context.Context, store *participation.Store, d *participation.Decision) error {
	if d == nil || !d.Accepted {
		return errWithdrawn
	}
	latest, err := store.Latest(ctx)
	if err != nil {
		return fmt.Errorf("participation state unreadable, nothing more is sent: %w", err)
	}
	if latest == nil || latest.Seq != d.Seq || !latest.Accepted {
		return errWithdrawn
	}
	return nil
}

func (c *consent) close() {
	if c.store != nil {
		c.store.Close()
	}
}

// limits are the outbox bounds from the settings.
func (c *consent) limits() participation.Limits {
	return participation.Limits{
		MaxRecords: c.settings.Int("outbox.max_records"),
		MaxAge:     c.settings.Duration("outbox.max_age"),
	}
}

// collects reports whether records are kept in the outbox now. Everything a
// participant would send is kept while they do not participate; an explicit
// pause (DO_NOT_TRACK, KSN_PARTICIPATION=off) collects nothing, and neither
// does the basic level, which sends lookups only.
func (c *consent) collects() bool {
	if c.store == nil {
		return false
	}
	switch c.status.Reason {
	case "do-not-track", "participation-off":
		return false
	}
	return !(c.status.Participating && c.status.Level == participation.Basic)
}

// describeState is one human line for the participation state.
func describeState(st participation.Status) string {
	switch {
	case st.Participating:
		return fmt.Sprintf("participating (%s level)", st.Level)
	case st.Reason == "never-asked":
		return "not participating: never asked"
	case st.Reason == "declined":
		return "not participating: declined"
	case st.Reason == "do-not-track":
		return "paused: DO_NOT_TRACK is set"
	case st.Reason == "participation-off":
		return "paused: KSN_PARTICIPATION=off"
	case st.Reason == "statement-changed":
		return "paused: the statement changed since you accepted it"
	case st.Reason == "state-unavailable":
		return "not participating: the state directory cannot be used"
	}
	return "not participating: " + st.Reason
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// plural writes a count with its noun: "1 record", "3 records".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// statementMatches reports whether the server's statement is the one the
// decision accepted: same id and same text (an id can stay while the text
// changes).
func statementMatches(ref api.StatementRef, d *participation.Decision) bool {
	return d != nil && ref.ID == d.StatementID && strings.EqualFold(ref.SHA256, d.StatementSHA256)
}
