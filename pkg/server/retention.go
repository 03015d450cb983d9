package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/ksnproject/ksn/pkg/store"
)

// Defaults of Retention.
const (
	// DefaultPurgeGrace is how long after a half-year ends its data key and
	// records are kept, for processing (a late batch, an operator's export).
	DefaultPurgeGrace = 7 * 24 * time.Hour
	// DefaultPurgeEvery is how often a running server looks for a
	// half-year to purge.
	DefaultPurgeEvery = time.Hour
	// DefaultRetryEvery is how often a purge whose WAL checkpoint a reader
	// kept from completing is tried again.
	DefaultRetryEvery = time.Minute
)

// Purger is the part of the database that retention needs.
type Purger interface {
	Purge(ctx context.Context, o store.PurgeOptions) (store.PurgeResult, error)
}

// Retention destroys the sealed records of finished half-years on a
// schedule (DESIGN §6: "cleared twice per year"): at start, then every
// Every, and every RetryEvery while a checkpoint is owed. Grace is used as
// given (0: purge as soon as a half-year ends); MinPrevalence is the
// server's (Config.MinPrevalence): per-object aggregates with fewer
// participants go with their half-year. Zero Every, RetryEvery, Now and
// Logger mean DefaultPurgeEvery, DefaultRetryEvery, time.Now and no logs.
type Retention struct {
	Store         Purger
	Grace         time.Duration
	MinPrevalence int
	Every         time.Duration
	RetryEvery    time.Duration
	Now           func() time.Time
	Logger        *slog.Logger
}

// PurgeNow runs one purge and logs what it destroyed: one line per
// half-year (its label and record count), nothing when there was nothing
// to do.
func (r *Retention) PurgeNow(ctx context.Context) (store.PurgeResult, error) {
	now, log := time.Now, r.Logger
	if r.Now != nil {
		now = r.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	grace := r.Grace
	if grace < 0 {
		grace = 0
	}
	res, err := r.Store.Purge(ctx, store.PurgeOptions{Now: now(), Grace: grace, MinParticipants: r.MinPrevalence})
	for _, p := range res.Purged {
		log.Info("purged half-year: data key destroyed, sealed records deleted",
			slog.String("half_year", p.HalfYear), slog.Int64("records", p.Records),
			slog.Int64("participant_rows", p.ParticipantRows), slog.Int64("object_rows", p.ObjectRows))
	}
	if err != nil {
		log.Error("purge failed", slog.Any("error", err))
		return res, err
	}
	if !res.Checkpointed {
		log.Warn("purge: a reader keeps destroyed rows in the database's files (SQLite: the WAL checkpoint; PostgreSQL: the VACUUM after the purge) until it finishes; tried again every minute")
	}
	return res, nil
}

// Run purges at once, then every Every (every RetryEvery while a
// checkpoint is owed), until ctx ends.
func (r *Retention) Run(ctx context.Context) {
	every, retry := r.Every, r.RetryEvery
	if every <= 0 {
		every = DefaultPurgeEvery
	}
	if retry <= 0 {
		retry = DefaultRetryEvery
	}
	for {
		wait := every
		if res, err := r.PurgeNow(ctx); err == nil && !res.Checkpointed { // errors are logged; the next round tries again
			wait = min(every, retry)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
