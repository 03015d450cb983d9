package server

import (
	"context"

	"github.com/ksnproject/ksn/pkg/store"
)

// SpamStat is one message body's or sender network's spam statistics.
type SpamStat = store.SpamStat

// SpamStats reads the spam statistics for `ksn admin stats spam`: the
// message bodies and sender networks most participants reported, at most
// top of each, only those at least minParticipants reported. Nothing
// original is read, and no key is needed.
func (a *Admin) SpamStats(ctx context.Context, top, minParticipants int) (store.SpamStats, error) {
	if top < 0 || minParticipants < 0 {
		return store.SpamStats{}, usage("", "--top and --min-prevalence must be 0 or more")
	}
	db, err := a.open(ctx)
	if err != nil {
		return store.SpamStats{}, err
	}
	defer db.Close()
	st, err := db.SpamStats(ctx, store.SpamOptions{Top: top, MinParticipants: minParticipants})
	if err != nil {
		return store.SpamStats{}, err
	}
	// Empty lists are [] in JSON, never null.
	st.Bodies, st.Nets = nonNil(st.Bodies), nonNil(st.Nets)
	return st, nil
}
