package network

import "context"

// Early loads the participation state on a goroutine of its own,
// started before the reputation database is opened: the two SQLite files
// then open side by side, which a check of one small file (all start-up)
// feels most.
type Early struct {
	done  chan struct{}
	c     *Consent
	err   error
	taken bool // handed to the run, which closes it
}

// LoadEarly starts load; nil load gives nil (no participation).
func LoadEarly(ctx context.Context, load func(context.Context) (*Consent, error)) *Early {
	if load == nil {
		return nil
	}
	e := &Early{done: make(chan struct{})}
	go func() {
		defer close(e.done)
		e.c, e.err = load(ctx)
	}()
	return e
}

// get waits for the state and hands it over, to be closed by who takes it.
func (e *Early) get(context.Context) (*Consent, error) {
	<-e.done
	e.taken = true
	return e.c, e.err
}

// Loader is the state as a loader (waiting for it), or nil without
// participation.
func (e *Early) Loader() func(context.Context) (*Consent, error) {
	if e == nil {
		return nil
	}
	return e.get
}

// Release closes the state when the run never took it (it stopped before
// its lookups began).
func (e *Early) Release() {
	if e == nil {
		return
	}
	<-e.done
	if !e.taken && e.c != nil {
		e.c.Close()
	}
}

// CloseTogether runs the closes at once: each database's last close may
// checkpoint and delete its -wal file, and neither needs to wait for the
// other.
func CloseTogether(closes ...func()) {
	done := make(chan struct{}, len(closes))
	for _, c := range closes {
		go func() {
			c()
			done <- struct{}{}
		}()
	}
	for range closes {
		<-done
	}
}

// Use is one command's use of the network: the collector, which keeps
// records even while the user does not participate, and the session,
// which opens nothing unless they do. The zero Use does nothing.
type Use struct {
	Collector *Collector
	Session   *Session
}

// Open reads the participation state with load (nil: none) and opens the
// collector and the session. A bad setting must not cost the user their
// local verdicts: the run goes on, not participating, and says why.
func Open(ctx context.Context, msg Messages, load func(context.Context) (*Consent, error), o SessionOptions) Use {
	if load == nil {
		return Use{}
	}
	c, err := load(ctx)
	if err != nil {
		msg.Warnf("%v: checking with local verdicts only, nothing is collected or sent", err)
		return Use{}
	}
	return Use{Collector: NewCollector(ctx, msg, c), Session: OpenSession(ctx, c, o)}
}

// Finish writes what was collected and delivers the outbox (at the
// extended level, while participating).
func (u Use) Finish(ctx context.Context) {
	u.Collector.Flush()
	u.Collector.Wait()
	u.Session.Deliver(ctx, u.Collector)
}
