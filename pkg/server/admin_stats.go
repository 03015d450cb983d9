package server

import (
	"context"
	"time"

	"github.com/ksnproject/ksn/pkg/store"
)

// StatsReport is what a server database holds, for `ksn admin stats`:
// counts, the half-years sealed and purged, the restriction, and the
// aggregate statistics of every submission. Nothing original, and no key.
type StatsReport struct {
	DB string // the database's absolute path
	store.ServerStats
	Sealed []HeldHalfYear         // oldest first
	Purged []store.PurgedHalfYear // oldest first
	// Restricted is until when file reputation is switched off, while it
	// is at the admin's clock; nil when it is available.
	Restricted *time.Time
	Aggregates store.Aggregates
}

// HeldHalfYear is a half-year of sealed records and when it ends.
type HeldHalfYear struct {
	HalfYear string
	Records  int64
	Ends     time.Time
}

// Stats gathers the report: daily counts of the last days days (0: all),
// and the top objects most participants reported.
func (a *Admin) Stats(ctx context.Context, days, top int) (StatsReport, error) {
	if days < 0 || top < 0 {
		return StatsReport{}, usage("", "--days and --top must be 0 or more")
	}
	db, err := a.open(ctx)
	if err != nil {
		return StatsReport{}, err
	}
	defer db.Close()
	st, err := db.Stats(ctx)
	if err != nil {
		return StatsReport{}, err
	}
	agg, err := db.Aggregates(ctx, store.AggregateOptions{Days: days, Top: top})
	if err != nil {
		return StatsReport{}, err
	}
	sealed, err := db.SealedCounts(ctx)
	if err != nil {
		return StatsReport{}, err
	}
	purged, err := db.PurgedHalfYears(ctx)
	if err != nil {
		return StatsReport{}, err
	}
	rep := StatsReport{DB: db.Path(), ServerStats: st, Purged: purged, Aggregates: agg}
	for _, h := range sealed {
		rep.Sealed = append(rep.Sealed, HeldHalfYear{h.HalfYear, h.Records, purgeAfter(h.HalfYear, 0)})
	}
	if !st.RestrictedUntil.IsZero() && a.now().Before(st.RestrictedUntil) {
		until := st.RestrictedUntil
		rep.Restricted = &until
	}
	return rep, nil
}
