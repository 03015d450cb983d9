package store

import (
	"errors"
	"fmt"
	"time"
)

// DataKeys is where a server database keeps its half-years' data keys,
// each wrapped by the key-encryption key: outside the database (DESIGN
// §6), so that destroying one makes its half-year's records unreadable in
// every copy of the database as well, with or without the KEK.
// seal.KeyDir, a directory of files, implements it; a store is given one
// with UseDataKeys. Labels are half-years ("2026H1").
type DataKeys interface {
	// Load returns the wrapped key of a half-year, or an error wrapping
	// fs.ErrNotExist when there is none.
	Load(label string) (wrapped []byte, err error)
	// Create stores a wrapped key for a half-year that has none, durably,
	// and returns the key stored: the one given, or the one another
	// process stored first, which every process must then use.
	Create(label string, wrapped []byte) (stored []byte, err error)
	// Destroy deletes a half-year's key for good (durably); a key that is
	// not there is no error.
	Destroy(label string) error
	// Labels lists the half-years that have a key.
	Labels() ([]string, error)
}

// ErrNoKEK reports an operation on sealed submissions before
// UnlockSubmissions or UseKEK gave the database its key-encryption key.
var ErrNoKEK = errors.New("no key-encryption key: submissions cannot be sealed or read")

// ErrWrongKEK reports a key-encryption key other than the one this
// database's data keys are wrapped by. A *KEKMismatchError wraps it.
var ErrWrongKEK = errors.New("the key-encryption key is not the one this database's submissions are sealed with")

// KEKMismatchError says which key the database expects and which it was
// given, by fingerprint (the start of seal.CheckValue).
type KEKMismatchError struct {
	Want, Got string
}

// Error says which key was expected and which given.
func (e *KEKMismatchError) Error() string {
	return fmt.Sprintf("%v (the database expects key %s, this one is %s)", ErrWrongKEK, e.Want, e.Got)
}

// Is makes errors.Is(err, ErrWrongKEK) hold for a *KEKMismatchError.
func (e *KEKMismatchError) Is(target error) bool { return target == ErrWrongKEK }

// ErrPurged reports a record received in a half-year whose key was already
// destroyed: the server's clock is behind the purge that ran.
var ErrPurged = errors.New("half-year already purged")

// ErrIDReused reports a record whose id was already stored with another
// body: a client resending a record sends it unchanged, so this is a bug
// or an attempt to pass one record off as another. A *IDReusedError
// wraps it.
var ErrIDReused = errors.New("a record id was already stored with a different body")

// IDReusedError names the record of a batch whose id was reused.
type IDReusedError struct {
	Index int    // in the batch
	ID    string // the record's id
}

// Error says which record.
func (e *IDReusedError) Error() string {
	return fmt.Sprintf("record %d (id %s): %v", e.Index, e.ID, ErrIDReused)
}

// Is makes errors.Is(err, ErrIDReused) hold for an *IDReusedError.
func (e *IDReusedError) Is(target error) bool { return target == ErrIDReused }

// ErrKeyMissing reports sealed records whose half-year's data key is gone
// although no purge destroyed it: the database was damaged or edited.
var ErrKeyMissing = errors.New("the data key is missing (the database was damaged or edited; restore it, or purge that half-year)")

// PurgedHalfYear says what a purge destroyed of one half-year. Its JSON
// form is part of `ksn admin purge --json` and `ksn admin stats --json`.
type PurgedHalfYear struct {
	HalfYear        string    `json:"half_year"`
	Records         int64     `json:"records"`          // sealed records deleted
	ParticipantRows int64     `json:"participant_rows"` // (participant, object) rows deleted
	PurgedAt        time.Time `json:"purged_at"`
	// ObjectRows counts the per-object aggregates deleted with the
	// half-year (PurgeOptions.MinParticipants) by the purge that returns
	// it; PurgedHalfYears does not keep it.
	ObjectRows int64 `json:"object_rows,omitempty"`
}

// PurgeOptions say what Purge destroys.
type PurgeOptions struct {
	// Now and Grace: every half-year that ended at least Grace before
	// Now is destroyed.
	Now   time.Time
	Grace time.Duration
	// MinParticipants: the per-object aggregates (object_stats) last
	// reported in a destroyed half-year or before, with fewer
	// participants than this, are deleted with it, so that no count that
	// can be tied to one participant (a guessed link, confirmed by its
	// hash) outlives the half-year. `ksn serve --min-prevalence`; 0 keeps
	// every row.
	MinParticipants int
}

// PurgeResult is what one Purge did.
type PurgeResult struct {
	Purged []PurgedHalfYear `json:"purged"`
	// Checkpointed is false while a reader keeps what a destruction
	// (this purge's or an earlier one's) deleted in the database's files:
	// on SQLite, by keeping the WAL checkpoint from completing (destroyed
	// pages linger in the -wal file); on PostgreSQL, by holding a
	// snapshot from before it, which keeps VACUUM from freeing the dead
	// rows. Every later purge tries again until it completes.
	Checkpointed bool `json:"checkpointed"`
}

// SealedHalfYear counts the sealed records of one half-year, and (after
// VerifySealed) how many opened. Its JSON form is part of `ksn admin
// verify --json`.
type SealedHalfYear struct {
	HalfYear string `json:"half_year"`
	Records  int64  `json:"records"`
	HasKey   bool   `json:"-"`
	Opened   int64  `json:"opened"` // VerifySealed only
}
