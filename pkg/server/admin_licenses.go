package server

import (
	"context"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/config"
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

// ParseExpiry reads --expires: a duration from now ("90d"), or "never"
// (also when empty). A duration of zero or less is refused: it would make
// a license that is expired before anyone can use it.
func ParseExpiry(s string) (Expiry, error) {
	if s == "" || strings.EqualFold(s, "never") {
		return Expiry{Never: true}, nil
	}
	d, err := config.ParseDuration(s)
	if err != nil {
		return Expiry{}, usage("e.g. --expires 90d, or never", "--expires: %v", err)
	}
	if d <= 0 {
		return Expiry{}, usage("e.g. --expires 90d; 'ksn admin license revoke' ends a license now",
			"--expires %s would make a license that has already expired", s)
	}
	return Expiry{In: d}, nil
}

// ExpiryText shows an expiry time as the admin commands print it.
func ExpiryText(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// at is the expiry time the database stores, to the second; nil: never.
func (e Expiry) at(now time.Time) *time.Time {
	if e.Never {
		return nil
	}
	t := now.Add(e.In).UTC().Truncate(time.Second)
	return &t
}

// LicenseStatus is a license as the database holds it, with its state at
// the admin's clock. Its JSON form is the documented schema of `ksn admin
// license create/list --json` (field order included).
type LicenseStatus struct {
	ID int64 `json:"id"`
	// Key is set by CreateLicense only: it exists nowhere else, the
	// database stores only its SHA-256.
	Key       string     `json:"key,omitempty"`
	Label     string     `json:"label"`
	State     string     `json:"state"` // LicenseValid, LicenseExpired or LicenseDenylisted
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`           // nil: never
	RevokedAt *time.Time `json:"revoked_at,omitempty"` // nil: not denylisted
	// Seats is how many installations of the license count toward
	// prevalence per half-year (store.License.Seats).
	Seats int `json:"seats"`
}

func statusAt(l store.License, now time.Time) LicenseStatus {
	return LicenseStatus{ID: l.ID, Label: l.Label, State: l.State(now), CreatedAt: l.CreatedAt,
		ExpiresAt: l.ExpiresAt, RevokedAt: l.RevokedAt, Seats: l.Seats}
}

// checkSeats refuses a number of seats the database would not take; 0
// means the default, one.
func checkSeats(seats int) error {
	if seats < 0 || seats > store.MaxSeats {
		return usage("e.g. --seats 5, one per installation the license is for", "--seats: %d is not between 1 and %d", seats, store.MaxSeats)
	}
	return nil
}

// CreateLicense makes a license with a new random key, returned in Key,
// for seats installations (0: one).
func (a *Admin) CreateLicense(ctx context.Context, label string, e Expiry, seats int) (LicenseStatus, error) {
	if err := checkSeats(seats); err != nil {
		return LicenseStatus{}, err
	}
	now := a.now()
	db, err := a.open(ctx)
	if err != nil {
		return LicenseStatus{}, err
	}
	defer db.Close()
	key, created, err := db.CreateLicense(ctx, label, e.at(now))
	if err != nil {
		return LicenseStatus{}, err
	}
	// Nobody holds the key before this returns: a moment with one seat
	// counts nothing.
	if seats > 1 {
		if created, err = db.SetLicenseSeats(ctx, key, seats); err != nil {
			return LicenseStatus{}, err
		}
	}
	l := statusAt(created, now)
	l.Key = key
	return l, nil
}

// SetSeats sets how many installations of a license, by key or id, count
// toward prevalence per half-year. Codes already counted in the current
// half-year stay counted when it is lowered.
func (a *Admin) SetSeats(ctx context.Context, keyOrID string, seats int) (LicenseStatus, error) {
	if err := checkSeats(seats); err != nil || seats == 0 {
		return LicenseStatus{}, usage("e.g. ksn admin license seats 3 5", "seats: %d is not between 1 and %d", seats, store.MaxSeats)
	}
	now := a.now()
	db, err := a.open(ctx)
	if err != nil {
		return LicenseStatus{}, err
	}
	defer db.Close()
	l, err := db.SetLicenseSeats(ctx, keyOrID, seats)
	if err != nil {
		return LicenseStatus{}, notFound(err, "see 'ksn admin license list'")
	}
	return statusAt(l, now), nil
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
	out := make([]LicenseStatus, 0, len(ls)) // [] in JSON when there are none
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
