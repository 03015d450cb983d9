package server

import (
	"context"
	"time"

	"github.com/ksnproject/ksn/pkg/store"
)

// License states, as LicenseStatus.State gives them.
const (
	LicenseValid      = store.LicenseValid
	LicenseExpired    = store.LicenseExpired
	LicenseDenylisted = store.LicenseDenylisted
)

// LicenseKeyPrefix starts every license key (see store.LicenseKeyPrefix).
const LicenseKeyPrefix = store.LicenseKeyPrefix

// Expiry is when a license ends: In after now, or Never.
type Expiry struct {
	Never bool
	In    time.Duration
}

// at is the expiry time the database stores, to the second; nil: never.
func (e Expiry) at(now time.Time) *time.Time {
	if e.Never {
		return nil
	}
	t := now.Add(e.In).UTC().Truncate(time.Second)
	return &t
}

// LicenseStatus is a license as the database holds it (never its key),
// with its state at the admin's clock.
type LicenseStatus struct {
	store.License
	State string // LicenseValid, LicenseExpired or LicenseDenylisted
}

func statusAt(l store.License, now time.Time) LicenseStatus {
	return LicenseStatus{License: l, State: l.State(now)}
}

// CreateLicense makes a license with a new random key and returns the key,
// which exists nowhere else: the database stores only its SHA-256.
func (a *Admin) CreateLicense(ctx context.Context, label string, e Expiry) (key string, l LicenseStatus, err error) {
	now := a.now()
	db, err := a.open(ctx)
	if err != nil {
		return "", LicenseStatus{}, err
	}
	defer db.Close()
	key, created, err := db.CreateLicense(ctx, label, e.at(now))
	if err != nil {
		return "", LicenseStatus{}, err
	}
	return key, statusAt(created, now), nil
}

// ListLicenses returns every license, oldest first.
func (a *Admin) ListLicenses(ctx context.Context) ([]LicenseStatus, error) {
	db, err := a.open(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ls, err := db.ListLicenses(ctx)
	if err != nil {
		return nil, err
	}
	now := a.now()
	out := make([]LicenseStatus, 0, len(ls))
	for _, l := range ls {
		out = append(out, statusAt(l, now))
	}
	return out, nil
}

// RevokeLicense denylists a license, by key or id, for good.
func (a *Admin) RevokeLicense(ctx context.Context, keyOrID string) (LicenseStatus, error) {
	now := a.now()
	db, err := a.open(ctx)
	if err != nil {
		return LicenseStatus{}, err
	}
	defer db.Close()
	l, err := db.RevokeLicense(ctx, keyOrID)
	if err != nil {
		return LicenseStatus{}, notFound(err, "see 'ksn admin license list'")
	}
	return statusAt(l, now), nil
}

// ExtendLicense sets when a license, by key or id, expires. A denylisted
// license stays denylisted: the caller sees it in the State returned.
func (a *Admin) ExtendLicense(ctx context.Context, keyOrID string, e Expiry) (LicenseStatus, error) {
	now := a.now()
	db, err := a.open(ctx)
	if err != nil {
		return LicenseStatus{}, err
	}
	defer db.Close()
	l, err := db.ExtendLicense(ctx, keyOrID, e.at(now))
	if err != nil {
		return LicenseStatus{}, notFound(err, "see 'ksn admin license list'")
	}
	return statusAt(l, now), nil
}
