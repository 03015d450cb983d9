package cli

import (
	"context"

	"github.com/ksnproject/ksn/pkg/network"
)

// earlyConsent loads the participation state on a goroutine of its own,
// started before the reputation database is opened: the two SQLite files
// then open side by side, which a check of one small file (all start-up)
// feels most.
type earlyConsent struct {
	done  chan struct{}
	c     *network.Consent
	err   error
	taken bool // handed to the run, which closes it
}

// loadConsentEarly starts load; nil load gives nil (no participation).
func loadConsentEarly(ctx context.Context, load func(context.Context) (*network.Consent, error)) *earlyConsent {
	if load == nil {
		return nil
	}
	e := &earlyConsent{done: make(chan struct{})}
	go func() {
		defer close(e.done)
		e.c, e.err = load(ctx)
	}()
	return e
}

// get waits for the state and hands it over; it has the signature of
// CheckOptions.Consent. A nil receiver is no participation.
func (e *earlyConsent) get(context.Context) (*network.Consent, error) {
	<-e.done
	e.taken = true
	return e.c, e.err
}

// consent is get as a loader, or nil without participation.
func (e *earlyConsent) consent() func(context.Context) (*network.Consent, error) {
	if e == nil {
		return nil
	}
	return e.get
}

// release closes the state when the run never took it (it stopped before
// its lookups began).
func (e *earlyConsent) release() {
	if e == nil {
		return
	}
	<-e.done
	if !e.taken && e.c != nil {
		e.c.Close()
	}
}

// closeTogether runs the closes at once: each database's last close may
// checkpoint and delete its -wal file, and neither needs to wait for the
// other.
func closeTogether(closes ...func()) {
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
