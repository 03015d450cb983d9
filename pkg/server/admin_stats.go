package server

import (
	"context"
	"time"

	"github.com/ksnproject/ksn/pkg/store"
)

// StatsReport is what a server database holds, for `ksn admin stats`:
// counts, the half-years sealed and purged, the restriction, and the
// aggregate statistics of every submission. Nothing original, and no key.
// Its JSON form is the documented schema of `ksn admin stats --json`
// (field order included): change it only by adding.
type StatsReport struct {
	DB          string                 `json:"-"` // the database's absolute path
	Licenses    int                    `json:"licenses"`
	Submissions int                    `json:"submissions"` // sealed records held
	Sealed      []HeldHalfYear         `json:"sealed"`      // oldest first
	Purged      []store.PurgedHalfYear `json:"purged"`      // oldest first
	Indicators  map[string]int         `json:"indicators"`  // file indicators by source
	Links       map[string]int         `json:"links"`       // link indicators by source
	// Restricted is until when file reputation is switched off, while it
	// is at the admin's clock; nil when it is available.
	Restricted *time.Time       `json:"files_restricted_until"`
	Aggregates store.Aggregates `json:"aggregates"`
}

// HeldHalfYear is a half-year of sealed records and when it ends.
type HeldHalfYear struct {
	HalfYear string    `json:"half_year"`
	Records  int64     `json:"records"`
	Ends     time.Time `json:"ends"`
}

// Stats gathers the report: daily counts of the last days days (0: all),
// and the top objects most participants reported.
func (a *Admin) Stats(ctx context.Context, days, top int) (StatsReport, error) {
	if days < 0 || top < 0 {
		return StatsReport{}, usage("", "--days and --top must be 0 or more")
	}
	db, _, err := a.openKeys(ctx, KEKSource{}, false)
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
	rep := StatsReport{DB: db.Path(), Licenses: st.Licenses, Submissions: st.Submissions,
		Sealed: []HeldHalfYear{}, Purged: nonNil(purged), Indicators: st.Indicators, Links: st.Links,
		Aggregates: agg}
	// Empty lists are [] in JSON, never null, whatever the store returned.
	rep.Aggregates.Daily = nonNil(agg.Daily)
	rep.Aggregates.ScanTime = nonNil(agg.ScanTime)
	rep.Aggregates.Systems = nonNil(agg.Systems)
	rep.Aggregates.TopObjects = nonNil(agg.TopObjects)
	for _, h := range sealed {
		rep.Sealed = append(rep.Sealed, HeldHalfYear{h.HalfYear, h.Records, purgeAfter(h.HalfYear, 0)})
	}
	if !st.RestrictedUntil.IsZero() && a.now().Before(st.RestrictedUntil) {
		until := st.RestrictedUntil
		rep.Restricted = &until
	}
	return rep, nil
}

// nonNil returns s, or an empty slice for nil: the JSON reports show an
// empty list as [], never null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
