package store

import (
	"context"
	"time"

	"github.com/ksnproject/ksn/pkg/reputation"
)

// ServerStore is what the reputation server's request handlers need of a
// database. *SQLite implements it; a PostgreSQL implementation will too, and
// tests use it to inject failures.
type ServerStore interface {
	// LookupFiles is Store.LookupFiles.
	LookupFiles(ctx context.Context, files []FileDigests) ([]reputation.Result, error)
	// URLsByPrefix returns the link indicators whose expression hash
	// begins with one of the prefixes, by hash.
	URLsByPrefix(ctx context.Context, prefixes []URLPrefix) (map[URLHash][]reputation.URLSourced, error)
	// LicenseByKey finds the license of a key; unknown keys wrap ErrNotFound.
	LicenseByKey(ctx context.Context, key string) (License, error)
	// StoreSubmissions seals and stores records idempotently by id, received
	// at the given time from a participant (its code for the half-year),
	// and updates the aggregates.
	StoreSubmissions(ctx context.Context, participant string, subs []Submission, at time.Time) (accepted, duplicates int, err error)
	// ObjectStats returns the aggregates of objects, for prevalence.
	ObjectStats(ctx context.Context, kind string, objects [][]byte) (map[string]ObjectStat, error)
	// Restriction returns until when file reputation is switched off.
	Restriction(ctx context.Context) (time.Time, error)
}

var _ ServerStore = (*SQLite)(nil)
