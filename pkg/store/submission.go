package store

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/ksnproject/ksn/pkg/api"
)

// Submission is one record to store, with the facts its aggregates are
// computed from. The caller (pkg/server) parsed and checked the body
// strictly; exactly one of File, URL, System and Spam is set, as
// Record.Kind says.
type Submission struct {
	Record api.Record
	File   *FileFacts
	URL    *URLFacts
	System *SystemFacts
	Spam   *SpamFacts
}

// Sender is who sent a batch, as far as the aggregates need to know: the
// license, whose participant codes count toward prevalence only up to its
// seats, and the sending installation's participant code for the
// half-year. Neither is stored with the records (see seatFor).
type Sender struct {
	License     int64  // the license's id
	Seats       int    // License.Seats; below 1 counts as 1
	Participant string // 32 lower-case hex characters (ParseParticipant)
}

// MaxScanMS bounds the time a record may say hashing or checking one
// object took (FileFacts.HashMS, URLFacts.CheckMS): a week, far beyond any
// real hash or check, and small enough that the sums of the aggregates
// stay finite (1.7e308 once made the stored mean +Inf, and `ksn admin
// stats --json` failed for good).
const MaxScanMS = 7 * 24 * 3600 * 1000.0

// ErrBadFacts reports a Submission whose facts are out of range: the
// caller's parser let through what it must refuse.
var ErrBadFacts = errors.New("submission facts out of range")

// checkFacts refuses what would poison the aggregates: times outside
// [0, MaxScanMS] (NaN and the infinities included) and negative sizes.
func (s Submission) checkFacts() error {
	scan := func(ms float64) error {
		if !(ms >= 0 && ms <= MaxScanMS) {
			return fmt.Errorf("record %s: a time of %g ms: %w", s.Record.ID, ms, ErrBadFacts)
		}
		return nil
	}
	switch {
	case s.File != nil:
		if s.File.Size < 0 {
			return fmt.Errorf("record %s: a size of %d: %w", s.Record.ID, s.File.Size, ErrBadFacts)
		}
		return scan(s.File.HashMS)
	case s.URL != nil:
		return scan(s.URL.CheckMS)
	case s.Spam != nil:
		if err := s.Spam.check(); err != nil {
			return fmt.Errorf("record %s: %v: %w", s.Record.ID, err, ErrBadFacts)
		}
	}
	return nil
}

// FileFacts are what the aggregates keep of a file record.
type FileFacts struct {
	SHA256 [32]byte
	Size   int64
	HashMS float64
}

// URLFacts are what the aggregates keep of a link record.
type URLFacts struct {
	// Key is the SHA-256 of the redacted URL's host and path ("host/path").
	Key     [32]byte
	CheckMS float64
}

// SystemFacts are a system record's fields, as sent; the aggregates keep
// them in classes (see SystemCount).
type SystemFacts struct {
	OS, OSVersion, Arch, KSNVersion string
	CPUs, MemoryGiB                 int
}

// Kinds of object in object_stats.
const (
	ObjectFile = "file"
	ObjectURL  = "url"
)

// ParseParticipant checks a participant code: 32 lower-case hex characters.
func ParseParticipant(p string) ([]byte, error) {
	b, err := hex.DecodeString(p)
	if err != nil || len(b) != 16 || strings.ToLower(p) != p {
		return nil, errors.New("participant is not 32 lower-case hex characters")
	}
	return b, nil
}

// ParseRecordID decodes a submission record id: 32 lower-case hex
// characters (128 random bits). Upper case is refused so that one record
// has exactly one spelling of its id.
func ParseRecordID(id string) ([]byte, error) {
	if len(id) != 32 || strings.ToLower(id) != id {
		return nil, fmt.Errorf("record id %q is not 32 lower-case hex characters", id)
	}
	b, err := hex.DecodeString(id)
	if err != nil {
		return nil, fmt.Errorf("record id %q is not 32 lower-case hex characters", id)
	}
	return b, nil
}
