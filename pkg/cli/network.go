package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/participation"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/term"
)

// outbox is the part of the participation store that delivery uses.
type outbox interface {
	Records(ctx context.Context, fn func(participation.Record) error) error
	Delete(ctx context.Context, ids []string) error
	// Participant is the installation's code for the half-year of now.
	Participant(ctx context.Context, now time.Time) (string, error)
}

// errChunkFull stops a Records walk once a batch is gathered.
var errChunkFull = errors.New("chunk full")

// deliverOutbox sends the outbox in batches and deletes each batch once the
// server has accepted it. Delivery is at least once: a crash between the
// send and the delete resends the batch next time, and the server ignores
// the ids it has seen, so nothing is lost or counted twice. permit, when
// not nil, is asked before every batch and stops delivery with its error.
func deliverOutbox(ctx context.Context, cl *client.Client, store outbox, permit func(context.Context) error) (sent int, err error) {
	for {
		if permit != nil {
			if err := permit(ctx); err != nil {
				return sent, err
			}
		}
		var batch []api.Record
		err := store.Records(ctx, func(r participation.Record) error {
			batch = append(batch, api.Record{ID: r.ID, Kind: string(r.Kind), CreatedAt: r.CreatedAt.UTC(), Body: r.Body})
			if len(batch) == api.MaxBatch {
				return errChunkFull
			}
			return nil
		})
		if err != nil && !errors.Is(err, errChunkFull) {
			return sent, err
		}
		if len(batch) == 0 {
			return sent, nil
		}
		participant, err := store.Participant(ctx, time.Now())
		if err != nil {
			return sent, err
		}
		if _, err := cl.Submit(ctx, participant, batch); err != nil {
			return sent, err
		}
		ids := make([]string, len(batch))
		for i, r := range batch {
			ids[i] = r.ID
		}
		if err := store.Delete(ctx, ids); err != nil {
			return sent, err
		}
		sent += len(batch)
	}
}

// verdictCache keeps network answers for a while (the local database
// implements it), so a file checked again soon costs no request.
type verdictCache interface {
	CachedVerdicts(ctx context.Context, sha256s [][]byte, now time.Time) (map[string]api.FileResult, error)
	CacheVerdicts(ctx context.Context, results map[string]api.FileResult, now time.Time, ttl time.Duration) error
}

// networkVerdicts asks the network about every hashed file of the batch
// whose local verdict is not an operator's override, and lets the network's
// answer win over feeds (DESIGN §2). Answers younger than ttl come from
// cache when there is one.
func networkVerdicts(ctx context.Context, cl *client.Client, cache verdictCache, ttl time.Duration, batch []checked) error {
	var want []int
	for i, c := range batch {
		if c.Err == nil && !hasSource(c.Reputation, reputation.OverrideSource) {
			want = append(want, i)
		}
	}
	now := time.Now()
	if cache != nil && ttl > 0 {
		keys := make([][]byte, 0, len(want))
		for _, i := range want {
			keys = append(keys, batch[i].Digests[checksum.SHA256])
		}
		// The cache only saves requests: when it fails, ask the server.
		hits, _ := cache.CachedVerdicts(ctx, keys, now)
		rest := want[:0]
		for _, i := range want {
			if r, ok := hits[string(batch[i].Digests[checksum.SHA256])]; ok {
				batch[i].Reputation = mergeNetwork(batch[i].Reputation, r)
			} else {
				rest = append(rest, i)
			}
		}
		want = rest
	}
	if len(want) == 0 {
		return nil
	}
	items := make([]api.FileQuery, len(want))
	for j, i := range want {
		c := batch[i]
		q := api.FileQuery{Digests: map[string]string{}, Size: c.Size}
		for a := range c.Digests {
			q.Digests[string(a)] = c.Digests.Hex(a)
		}
		items[j] = q
	}
	res, err := cl.LookupFiles(ctx, items)
	if err != nil {
		return err
	}
	fresh := make(map[string]api.FileResult, len(want))
	for j, i := range want {
		batch[i].Reputation = mergeNetwork(batch[i].Reputation, res[j])
		if d := batch[i].Digests[checksum.SHA256]; d != nil {
			fresh[string(d)] = res[j]
		}
	}
	if cache != nil && ttl > 0 {
		_ = cache.CacheVerdicts(ctx, fresh, now, ttl) // a busy database only costs a later request
	}
	return nil
}

// mergeNetwork layers a network result over a local one: a network verdict
// other than unknown replaces the local verdict; sources accumulate.
func mergeNetwork(local reputation.Result, net api.FileResult) reputation.Result {
	v, err := reputation.ParseVerdict(net.Verdict)
	if err != nil || v == reputation.Unknown {
		// No verdict, but how many participants reported it is news too.
		local.Prevalence = max(local.Prevalence, net.Prevalence)
		return local
	}
	out := local
	out.Verdict, out.ThreatName, out.Category = v, net.Threat, net.Category
	out.Sources = append(append([]string{}, local.Sources...), "network")
	if net.FirstSeen != nil && (out.FirstSeen.IsZero() || net.FirstSeen.Before(out.FirstSeen)) {
		out.FirstSeen = *net.FirstSeen
	}
	if net.LastSeen != nil && net.LastSeen.After(out.LastSeen) {
		out.LastSeen = *net.LastSeen
	}
	out.Prevalence = net.Prevalence
	return out
}

func hasSource(r reputation.Result, source string) bool {
	for _, s := range r.Sources {
		if s == source {
			return true
		}
	}
	return false
}

// network is a check's use of the reputation network: present only while
// the user participates with an endpoint set. Its first failure ends its
// use for the run; local verdicts stand and the exit code tells why.
type network struct {
	cl         *client.Client
	consent    *consent
	io         *term.IOStreams
	cache      verdictCache // nil: every lookup asks the server
	ttl        time.Duration
	sendOutbox bool // send the outbox after the run (extended level)
	err        error
	hint       string
}

// networkDeps is what opening the network needs of a command.
type networkDeps struct {
	IO        *term.IOStreams
	NewClient func(*consent) (*client.Client, error) // nil: local verdicts only
	NoCache   bool                                   // ask even about files answered recently
	Files     bool                                   // file lookups, which a service-wide restriction stops
}

// openNetwork asks the endpoint for its status once (license, statement)
// before any lookup. Nothing is opened unless the user participates.
func openNetwork(ctx context.Context, opts networkDeps, c *consent, db store.Store) *network {
	n := &network{}
	if c == nil || opts.NewClient == nil || !c.status.Participating || c.settings.String("endpoint") == "" {
		return n
	}
	n.consent, n.io = c, opts.IO
	endpoint := c.settings.String("endpoint")
	now := time.Now()
	if w, ok := loadBackoff(c.paths, waitLookups, endpoint, now); ok && (w.Detail != client.DetailRestricted || opts.Files) {
		opts.IO.Errorf("notice: not asking %s before %s, as it asked (ksn status asks anyway)", endpoint, formatTime(w.Until))
		n.err = waitError(w, endpoint, now)
		return n
	}
	cl, err := opts.NewClient(c)
	if err != nil { // a configuration mistake, not a network failure
		n.err = &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("network verdicts unavailable, local verdicts stand: %w", err),
			Hint: "fix it with ksn config set, or ksn license activate <key>"}
		return n
	}
	st, err := cl.Status(ctx)
	if err != nil {
		n.err = err
		return n
	}
	if d := c.status.Decision; !statementMatches(st.Statement, d) {
		n.err = exitcode.New(exitcode.NotParticipate, "statement-changed: the server's statement is %s, you accepted %s", st.Statement.ID, d.StatementID).
			WithHint("read the new statement and accept it: ksn optin")
		return n
	}
	n.cl = cl
	// The shorter of the user's and the server's cache lifetimes.
	n.ttl = c.settings.Duration("cache.ttl")
	if server := time.Duration(st.Limits.CacheTTLSeconds) * time.Second; server < n.ttl {
		n.ttl = server
	}
	if vc, ok := db.(verdictCache); ok && !opts.NoCache {
		n.cache = vc
	}
	n.sendOutbox = c.status.Level == participation.Extended
	return n
}

func (n *network) lookup(ctx context.Context, batch []checked) {
	if !n.permitted(ctx) {
		return
	}
	n.err = networkVerdicts(ctx, n.cl, n.cache, n.ttl, batch)
}

// permitted reports whether the network may be used now. When the user
// stopped participating since the run began, network use ends quietly but
// for a notice: local verdicts stand, as they do for anyone who does not
// participate, and the exit code does not change.
func (n *network) permitted(ctx context.Context) bool {
	if n == nil || n.cl == nil || n.err != nil {
		return false
	}
	if err := n.consent.stillParticipating(ctx); err != nil {
		n.io.Warnf("%v; local verdicts stand", err)
		n.cl = nil
		return false
	}
	return true
}

// deliver sends the outbox once the run's records are in it.
func (n *network) deliver(ctx context.Context, col *collector) {
	if !n.sendOutbox || col.consent == nil || col.consent.store == nil || !n.permitted(ctx) {
		return
	}
	endpoint := n.consent.settings.String("endpoint")
	if _, ok := loadBackoff(n.consent.paths, waitSubmit, endpoint, time.Now()); ok {
		return // the server asked deliveries to wait; the records keep
	}
	_, err := deliverOutbox(ctx, n.cl, col.consent.store, func(ctx context.Context) error {
		if !n.permitted(ctx) {
			return errWithdrawn
		}
		return nil
	})
	// The run's verdicts are in, from the network too: a failed delivery
	// is a warning, not the run's result. The records stay in the outbox
	// and go with the next run; a wait the server asked for is kept.
	if err != nil && !errors.Is(err, errWithdrawn) && ctx.Err() == nil {
		n.io.Warnf("the collected records could not be sent yet; they stay in the outbox for the next run: %v", err)
		rememberBackoff(n.consent.paths, waitSubmit, endpoint, err, time.Now())
	}
}

// failure is the error a check ends with when the network failed: its
// exit code (3..7) and the command that fixes it.
func (n *network) failure() error {
	var ce *client.Error
	var ec *exitcode.Error
	if errors.As(n.err, &ce) && n.consent != nil {
		rememberBackoff(n.consent.paths, waitLookups, n.consent.settings.String("endpoint"), ce, time.Now())
	}
	switch {
	case errors.As(n.err, &ce):
		return &exitcode.Error{Code: ce.ExitCode(), Err: fmt.Errorf("network verdicts unavailable, local verdicts stand: %w", ce), Hint: ce.Hint()}
	case errors.As(n.err, &ec):
		return ec
	}
	return &exitcode.Error{Code: exitcode.Offline, Err: fmt.Errorf("network verdicts unavailable, local verdicts stand: %w", n.err)}
}
