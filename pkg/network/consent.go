package network

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/participation"
)

// Env is what the network side needs of a command's surroundings.
type Env struct {
	Paths   config.Paths
	Getenv  config.Env
	Version string // ksn's version, for the User-Agent, records and decisions
}

// Consent is what a participation-aware command knows: the statement in
// force, the stored decisions and what they add up to with the
// environment, and the settings.
type Consent struct {
	env       Env
	store     *participation.Store // nil when the state directory is unavailable
	openErr   error                // why store is nil
	statement participation.Statement
	status    participation.Status
	settings  *config.Settings
}

// LoadConsent reads the settings and the participation state. It never
// fails on an unusable state directory: that degrades to "not
// participating" (the status says why), never to sending. A bad setting
// is a usage error.
func LoadConsent(ctx context.Context, env Env) (*Consent, error) {
	settings, err := config.LoadSettings(env.Paths, env.Getenv)
	if err != nil {
		return nil, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("configuration: %v", err),
			Hint: "fix the value with 'ksn config set' or unset the variable"}
	}
	c := &Consent{env: env, statement: participation.Builtin(), settings: settings}
	c.store, c.openErr = participation.Open(ctx, env.Paths.State)
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
	c.status = participation.Evaluate(latest, env.Getenv, c.statement, settings.String("endpoint"))
	return c, nil
}

// Status is the effective participation.
func (c *Consent) Status() Status { return c.status }

// Statement is the statement in force as far as is known without asking.
func (c *Consent) Statement() Statement { return c.statement }

// Settings are the settings in force.
func (c *Consent) Settings() *config.Settings { return c.settings }

// Endpoint is the configured reputation server, or "".
func (c *Consent) Endpoint() string { return c.settings.String("endpoint") }

// Usable says why the participation state cannot be used (nil when it can).
func (c *Consent) Usable() error {
	if c.store == nil {
		return c.openErr
	}
	return nil
}

// StateFile is where decisions and the outbox are kept ("" when unusable).
func (c *Consent) StateFile() string {
	if c.store == nil {
		return ""
	}
	return c.store.Path()
}

// Close releases the state database.
func (c *Consent) Close() {
	if c.store != nil {
		c.store.Close()
	}
}

// ErrWithdrawn ends network use when participation ended while a command
// ran: a `ksn optout` in another terminal, say.
var ErrWithdrawn = errors.New("participation was withdrawn while ksn ran: nothing more is sent")

// StillParticipating re-reads the latest decision just before something is
// sent, so that a `ksn optout` run while this command works takes effect
// at its next request, not when it ends.
func (c *Consent) StillParticipating(ctx context.Context) error {
	if c.store == nil || !c.status.Participating {
		return ErrWithdrawn
	}
	return stillAccepted(ctx, c.store, c.status.Decision)
}

// stillAccepted reports ErrWithdrawn unless the acceptance d is still the
// latest decision. Any newer decision stops sending: a new acceptance is
// for the command that recorded it to act on.
func stillAccepted(ctx context.Context, store *participation.Store, d *participation.Decision) error {
	if d == nil || !d.Accepted {
		return ErrWithdrawn
	}
	latest, err := store.Latest(ctx)
	if err != nil {
		return fmt.Errorf("participation state unreadable, nothing more is sent: %w", err)
	}
	if latest == nil || latest.Seq != d.Seq || !latest.Accepted {
		return ErrWithdrawn
	}
	return nil
}

// limits are the outbox bounds from the settings.
func (c *Consent) limits() participation.Limits {
	return participation.Limits{
		MaxRecords: c.settings.Int("outbox.max_records"),
		MaxAge:     c.settings.Duration("outbox.max_age"),
	}
}

// collects reports whether records are kept in the outbox now. Everything a
// participant would send is kept while they do not participate; an explicit
// pause (DO_NOT_TRACK, KSN_PARTICIPATION=off) collects nothing, and neither
// does the basic level, which sends lookups only.
func (c *Consent) collects() bool {
	if c.store == nil {
		return false
	}
	switch c.status.Reason {
	case "do-not-track", "participation-off":
		return false
	}
	return !(c.status.Participating && c.status.Level == participation.Basic)
}

// DescribeState is one human line for the participation state.
func DescribeState(st Status) string {
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
	case st.Reason == "endpoint-changed":
		return "paused: you accepted the statement of another server"
	case st.Reason == "state-unavailable":
		return "not participating: the state directory cannot be used"
	}
	return "not participating: " + st.Reason
}

// statementMatches reports whether the server's statement is the one the
// decision accepted: same id and same text (an id can stay while the text
// changes).
func statementMatches(ref api.StatementRef, d *participation.Decision) bool {
	return d != nil && ref.ID == d.StatementID && strings.EqualFold(ref.SHA256, d.StatementSHA256)
}
