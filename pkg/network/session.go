package network

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/participation"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/sources"
)

// SessionOptions say what a command wants of the network.
type SessionOptions struct {
	Msg Messages
	// Cache keeps the server's answers (the local database); nil keeps none.
	Cache sources.VerdictCache
	// Fresh asks even about files answered recently (--no-cache); answers
	// still replace cached ones.
	Fresh bool
	// Files: the command looks files up, which a service-wide
	// restriction stops (a link lookup is not restricted).
	Files bool
}

// Session is one command's use of the reputation network: present only
// while the user participates: the endpoint's server when one is set, and
// the public sources the user enabled (with or without an endpoint). The
// first failure of each ends its use for the run; local verdicts stand
// and Failure tells why.
type Session struct {
	consent    *Consent
	msg        Messages
	cl         *client.Client
	source     *gate
	public     []*publicGate
	sendOutbox bool // send the outbox after the run (extended level)
	err        error
	withdrawn  bool // participation ended while the command ran
}

// OpenSession asks the endpoint for its status once (license, statement)
// before any lookup, and opens the enabled public sources (which send
// nothing until files are looked up). Nothing is opened, and no byte is
// sent, unless the user participates.
func OpenSession(ctx context.Context, c *Consent, opts SessionOptions) *Session {
	s := &Session{consent: c, msg: opts.Msg}
	if c == nil || !c.status.Participating {
		return s
	}
	if opts.Files {
		// They answer for files only: links are not sent to them.
		s.openPublic(c)
	}
	if c.Endpoint() == "" {
		return s
	}
	endpoint := c.Endpoint()
	now := time.Now()
	if w, ok := loadBackoff(c.env.Paths, waitLookups, endpoint, now); ok && (w.Detail != client.DetailRestricted || opts.Files) {
		opts.Msg.Errorf("notice: not asking %s before %s, as it asked (ksn status asks anyway)", endpoint, formatTime(w.Until))
		s.err = waitError(w, endpoint, now)
		return s
	}
	cl, err := c.newClient()
	if err != nil { // a configuration mistake, not a network failure
		s.err = &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("network verdicts unavailable, local verdicts stand: %w", err),
			Hint: "fix it with ksn config set, or ksn license activate <key>"}
		return s
	}
	st, err := cl.Status(ctx)
	if err != nil {
		s.err = err
		return s
	}
	if d := c.status.Decision; !statementMatches(st.Statement, d) {
		s.err = exitcode.New(exitcode.NotParticipate, "statement-changed: the server's statement is %s, you accepted %s", st.Statement.ID, d.StatementID).
			WithHint("read the new statement and accept it: ksn optin")
		return s
	}
	s.cl = cl
	// The shorter of the user's and the server's cache lifetimes.
	ttl := c.settings.Duration("cache.ttl")
	if server := time.Duration(st.Limits.CacheTTLSeconds) * time.Second; server < ttl {
		ttl = server
	}
	s.source = &gate{s: s, inner: sources.NewServer(cl, sources.ServerOptions{Cache: opts.Cache, TTL: ttl, Fresh: opts.Fresh})}
	s.sendOutbox = c.status.Level == participation.Extended
	return s
}

// Sources are the network's sources the command may ask: none unless the
// session opened; the server first, then the public sources.
func (s *Session) Sources() []reputation.Source {
	if s == nil {
		return nil
	}
	var out []reputation.Source
	if s.source != nil {
		out = append(out, s.source)
	}
	for _, g := range s.public {
		if g.src != nil {
			out = append(out, g)
		}
	}
	return out
}

// permitted reports whether the server may be asked now.
func (s *Session) permitted(ctx context.Context) bool {
	if s == nil || s.cl == nil || s.err != nil {
		return false
	}
	return s.participating(ctx)
}

// participating reports whether the user still participates. When they
// stopped since the run began, network use ends quietly but for a notice:
// local verdicts stand, as they do for anyone who does not participate,
// and the exit code does not change.
func (s *Session) participating(ctx context.Context) bool {
	if s.withdrawn {
		return false
	}
	if err := s.consent.StillParticipating(ctx); err != nil {
		s.msg.Warnf("%v; local verdicts stand", err)
		s.cl, s.withdrawn = nil, true
		return false
	}
	return true
}

// gate asks the server only while the session may use the network, and
// keeps its first failure as the session's.
type gate struct {
	s     *Session
	inner reputation.Source
}

func (g *gate) Name() string            { return g.inner.Name() }
func (g *gate) Trust() reputation.Trust { return g.inner.Trust() }

func (g *gate) LookupFiles(ctx context.Context, files []reputation.FileQuery) ([]reputation.Answer, error) {
	if !g.s.permitted(ctx) {
		return make([]reputation.Answer, len(files)), nil
	}
	a, err := g.inner.LookupFiles(ctx, files)
	g.s.err = err
	return a, err
}

func (g *gate) LookupLinks(ctx context.Context, links []reputation.LinkQuery) ([]reputation.Answer, error) {
	if !g.s.permitted(ctx) {
		return make([]reputation.Answer, len(links)), nil
	}
	a, err := g.inner.LookupLinks(ctx, links)
	g.s.err = err
	return a, err
}

// Deliver sends the outbox once the run's records are in it (col has
// been flushed). A failed delivery is a warning, not the run's result.
func (s *Session) Deliver(ctx context.Context, col *Collector) {
	if s == nil || !s.sendOutbox || col == nil || col.consent == nil || col.consent.store == nil || !s.permitted(ctx) {
		return
	}
	paths, endpoint := s.consent.env.Paths, s.consent.Endpoint()
	if _, ok := loadBackoff(paths, waitSubmit, endpoint, time.Now()); ok {
		return // the server asked deliveries to wait; the records keep
	}
	_, err := deliverOutbox(ctx, s.cl, col.consent.store, func(ctx context.Context) error {
		if !s.permitted(ctx) {
			return ErrWithdrawn
		}
		return nil
	})
	// The run's verdicts are in, from the network too: a failed delivery
	// is a warning, not the run's result. The records stay in the outbox
	// and go with the next run; a wait the server asked for is kept.
	if err != nil && !errors.Is(err, ErrWithdrawn) && ctx.Err() == nil {
		s.msg.Warnf("the collected records could not be sent yet; they stay in the outbox for the next run: %v", err)
		rememberBackoff(paths, waitSubmit, endpoint, err, time.Now())
	}
}

// Failure is the error a command ends with when the network failed (nil
// when it did not): its exit code (3..7) and the command that fixes it. A
// wait the server asked for is remembered for the next runs.
func (s *Session) Failure() error {
	if s == nil {
		return nil
	}
	if s.err == nil {
		return s.publicFailure()
	}
	var ce *client.Error
	var ec *exitcode.Error
	if errors.As(s.err, &ce) {
		rememberBackoff(s.consent.env.Paths, waitLookups, s.consent.Endpoint(), ce, time.Now())
	}
	switch {
	case errors.As(s.err, &ce):
		return &exitcode.Error{Code: ce.ExitCode(), Err: fmt.Errorf("network verdicts unavailable, local verdicts stand: %w", ce), Hint: ce.Hint()}
	case errors.As(s.err, &ec):
		return ec
	}
	return &exitcode.Error{Code: exitcode.Offline, Err: fmt.Errorf("network verdicts unavailable, local verdicts stand: %w", s.err)}
}

// publicFailure is the first public source's failure, as Failure gives
// the server's.
func (s *Session) publicFailure() error {
	for _, g := range s.public {
		var se *sources.Error
		switch {
		case g.err == nil || s.withdrawn:
		case errors.As(g.err, &se):
			return &exitcode.Error{Code: se.ExitCode(), Err: fmt.Errorf("%s verdicts unavailable, local verdicts stand: %w", g.name, se), Hint: se.Hint()}
		case errors.Is(g.err, context.Canceled):
		default:
			return &exitcode.Error{Code: exitcode.ServiceError, Err: fmt.Errorf("%s verdicts unavailable, local verdicts stand: %w", g.name, g.err)}
		}
	}
	return nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
