package store

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"time"
)

// LicenseKeyPrefix starts every license key, so that a key is recognisable
// in a config file or a secret scanner, and `ksn admin` can tell a key from
// a license id.
const LicenseKeyPrefix = "ksn_"

// ErrBadLicenseRef reports text that is neither a license key nor a
// license id, as an operator may mistype it.
var ErrBadLicenseRef = errors.New("neither a license key nor a license id")

// licenseKeyBytes is the entropy of a key: 160 bits, 32 base32 characters.
const licenseKeyBytes = 20

// keyEncoding spells keys in lower-case base32 without padding: no
// characters that need quoting in a shell or a URL.
var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// License states, as License.State reports them.
const (
	LicenseValid      = "valid"
	LicenseExpired    = "expired"
	LicenseDenylisted = "denylisted"
)

// License is one license as the server's database holds it. The key is
// not part of it: only its SHA-256 is stored.
type License struct {
	ID        int64
	Label     string
	CreatedAt time.Time
	ExpiresAt *time.Time // nil: never expires
	RevokedAt *time.Time // nil: not denylisted
	// Seats is how many installations of the license count toward
	// prevalence: per half-year, its first Seats distinct participant
	// codes (at least 1).
	Seats int
}

// MaxSeats bounds License.Seats: a license is a team's, not a network's.
const MaxSeats = 1_000_000

// State says whether the license may be used at now: LicenseDenylisted wins
// over LicenseExpired, because a revocation is final while an expiry can be
// extended.
func (l License) State(now time.Time) string {
	switch {
	case l.RevokedAt != nil:
		return LicenseDenylisted
	case l.ExpiresAt != nil && !now.Before(*l.ExpiresAt):
		return LicenseExpired
	}
	return LicenseValid
}

// hashKey is what the licenses table stores of a key.
func hashKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}
