package store

import (
	"context"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/seal"
)

// ServerStore is what the reputation server's request handlers need of a
// database. *Server implements it; a PostgreSQL implementation will too, and
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
	// at the given time from a sender (its license and its participant
	// code for the half-year), and updates the aggregates. Per half-year,
	// a license's first Sender.Seats distinct codes count as participants
	// of the objects they report; further codes' records are stored and
	// counted as reports only. What links a license to its codes is keyed
	// by the half-year's data key and deleted with the half-year.
	StoreSubmissions(ctx context.Context, from Sender, subs []Submission, at time.Time) (accepted, duplicates int, err error)
	// ObjectStats returns the aggregates of objects, for prevalence.
	ObjectStats(ctx context.Context, kind string, objects [][]byte) (map[string]ObjectStat, error)
	// URLPrevalence returns, for the reported links whose hash (SHA-256 of
	// "host/path") begins with one of the prefixes, how many participants
	// reported each: only those at least minParticipants (and at least
	// one) reported, at most MaxPrevalencePerPrefix per prefix.
	URLPrevalence(ctx context.Context, prefixes []URLPrefix, minParticipants int) (map[URLHash]int64, error)
	// Restriction returns until when file reputation is switched off.
	Restriction(ctx context.Context) (time.Time, error)
}

// FileLookupWithStats is implemented by a ServerStore that reads a
// lookup and the aggregates of its files (prevalence) more cheaply
// together than one after the other; the server uses it when it can.
type FileLookupWithStats interface {
	LookupFilesWithStats(ctx context.Context, files []FileDigests, kind string, objects [][]byte) ([]reputation.Result, map[string]ObjectStat, error)
}

// LookupWarmer is implemented by a ServerStore that answers lookups from
// memory it reads first: WarmLookups reads it now (keys: how many), so
// that a server is at full speed when it starts listening.
type LookupWarmer interface {
	WarmLookups(ctx context.Context) (keys int, err error)
}

// ServerAdmin is what the operator's side of a server needs of its
// database: `ksn serve` binding the key-encryption key, keeping the
// statement and purging on schedule, and `ksn admin`. *Server implements
// it; the methods are documented there.
type ServerAdmin interface {
	// Path names the database in messages, and places the default
	// key-encryption key file beside it.
	Path() string
	Close() error

	CreateLicense(ctx context.Context, label string, expires *time.Time) (key string, l License, err error)
	ListLicenses(ctx context.Context) ([]License, error)
	RevokeLicense(ctx context.Context, keyOrID string) (License, error)
	ExtendLicense(ctx context.Context, keyOrID string, expires *time.Time) (License, error)
	// SetLicenseSeats sets License.Seats (1 to MaxSeats) of the license a
	// key or id names; CreateLicense makes licenses of one seat.
	SetLicenseSeats(ctx context.Context, keyOrID string, seats int) (License, error)

	SetOverride(ctx context.Context, ind reputation.FileIndicator) error
	UnsetOverride(ctx context.Context, alg checksum.Algorithm, digest []byte) error
	SetURLOverride(ctx context.Context, ind reputation.URLIndicator) error
	UnsetURLOverride(ctx context.Context, hash URLHash) error
	SetRestriction(ctx context.Context, until time.Time) error
	SetStatement(ctx context.Context, text string) error
	Statement(ctx context.Context) (text string, ok bool, err error)

	// DatabaseID is the database's random identity, made on first use;
	// copies share it. The default places of its keys are named by it.
	DatabaseID(ctx context.Context) (string, error)
	// UseDataKeys gives the database the place of its data keys (outside
	// the database) and moves there any key an earlier version kept in
	// the database; moved counts those.
	UseDataKeys(ctx context.Context, keys DataKeys) (moved int, err error)
	UnlockSubmissions(ctx context.Context, kek seal.Key) error
	UseKEK(ctx context.Context, kek seal.Key) error
	KEKBound(ctx context.Context) (fingerprint string, ok bool, err error)
	VerifySealed(ctx context.Context) ([]SealedHalfYear, error)
	// Purge destroys every half-year due (PurgeOptions): in one
	// transaction its sealed records, participant and seat rows, the
	// per-object aggregates below MinParticipants last reported in it, and
	// a purged_half_years record; then its key (DataKeys.Destroy). It
	// leaves nothing destroyed readable in the database's files (SQLite:
	// secure_delete and a truncating WAL checkpoint), and reports
	// Checkpointed false while that is still owed, retrying on every call.
	Purge(ctx context.Context, o PurgeOptions) (PurgeResult, error)
	SealedCounts(ctx context.Context) ([]SealedHalfYear, error)
	PurgedHalfYears(ctx context.Context) ([]PurgedHalfYear, error)

	Stats(ctx context.Context) (ServerStats, error)
	Aggregates(ctx context.Context, o AggregateOptions) (Aggregates, error)
	// SpamStats reads the aggregates of spam records (spam.go).
	SpamStats(ctx context.Context, o SpamOptions) (SpamStats, error)
}

var (
	_ ServerStore = (*Server)(nil)
	_ ServerAdmin = (*Server)(nil)
	_ Store       = (*Server)(nil) // feeds import into a server database too
)
