package network

import (
	"context"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/participation"
)

// OutboxSummary is the local outbox as `ksn queue` and `ksn status` show
// it: its statistics, the bounds in force and where it is kept. Its JSON
// form is the documented output of `ksn queue --json`, and the "outbox"
// of `ksn status --json`.
type OutboxSummary struct {
	Records int   `json:"records"`
	Bytes   int64 `json:"bytes"`
	// Oldest and Newest are the creation times of the oldest and newest
	// records, UTC; nil (null) when the outbox is empty.
	Oldest      *time.Time `json:"oldest"`
	Newest      *time.Time `json:"newest"`
	DroppedFull int64      `json:"dropped_full"`
	DroppedAge  int64      `json:"dropped_age"`
	MaxRecords  int        `json:"max_records"`
	MaxAge      string     `json:"max_age"` // as the setting says it: "90d"
	File        string     `json:"file"`    // "" when the state directory is unusable
}

// OutboxSummary reads the outbox's statistics, with the bounds in force.
func (c *Consent) OutboxSummary(ctx context.Context) (OutboxSummary, error) {
	s, err := c.OutboxStats(ctx)
	if err != nil {
		return OutboxSummary{}, err
	}
	return c.summarize(s), nil
}

func (c *Consent) summarize(s OutboxStats) OutboxSummary {
	maxRecords, maxAge, _ := c.OutboxLimits()
	q := OutboxSummary{Records: s.Records, Bytes: s.Bytes, DroppedFull: s.DroppedFull, DroppedAge: s.DroppedAge,
		MaxRecords: maxRecords, MaxAge: maxAge, File: c.StateFile()}
	if !s.Oldest.IsZero() {
		o, n := s.Oldest.UTC(), s.Newest.UTC()
		q.Oldest, q.Newest = &o, &n
	}
	return q
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
	return c.store.Records(ctx, func(r participation.Record) error { return fn(wireRecord(r)) })
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

// wireRecord is a collected record as it is sent.
func wireRecord(r participation.Record) api.Record {
	return api.Record{ID: r.ID, Kind: string(r.Kind), CreatedAt: r.CreatedAt.UTC(), Body: r.Body}
}
