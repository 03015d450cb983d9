package store

import (
	"context"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// ServerStore is what the reputation server's request handlers need of a
// database. *SQLite implements it; a PostgreSQL implementation will too, and
// tests use it to inject failures.
type ServerStore interface {
	// LookupFiles is Store.LookupFiles.
	LookupFiles(ctx context.Context, files []FileDigests) ([]reputation.Result, error)
	// LicenseByKey finds the license of a key; unknown keys wrap ErrNotFound.
	LicenseByKey(ctx context.Context, key string) (License, error)
	// StoreSubmissions stores records idempotently by id.
	StoreSubmissions(ctx context.Context, recs []api.Record) (accepted, duplicates int, err error)
	// Restriction returns until when file reputation is switched off.
	Restriction(ctx context.Context) (time.Time, error)
}

var _ ServerStore = (*SQLite)(nil)
