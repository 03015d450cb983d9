package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/halfyear"
	"github.com/ksnproject/ksn/pkg/seal"
	"github.com/ksnproject/ksn/pkg/store"
)

// Keygen writes a new random key-encryption key to path, mode 0600. An
// existing file is never overwritten: it may be the only key of a
// database.
func Keygen(path string) error {
	if _, err := seal.WriteKEKFile(path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return usage("a key-encryption key is never overwritten: choose another file", "%s exists", path)
		}
		return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("keygen: %w", err)}
	}
	return nil
}

// PurgeReport says what Purge destroyed, and what it kept until when. Its
// JSON form is the documented schema of `ksn admin purge --json`.
type PurgeReport struct {
	store.PurgeResult
	Kept []KeptHalfYear `json:"kept"` // oldest first
}

// KeptHalfYear is a half-year whose sealed records are still held.
type KeptHalfYear struct {
	HalfYear   string    `json:"half_year"`
	Records    int64     `json:"records"`
	PurgeAfter time.Time `json:"purge_after"` // when it becomes due for the purge
}

// Purge destroys now every half-year that ended more than grace ago, as a
// running server does hourly (Retention): its data key, its sealed
// records, its participant and seat rows, and the per-object aggregates
// of fewer than minPrevalence participants. It needs no key-encryption
// key. A report that is not Checkpointed means that a reader kept the WAL
// from being emptied: the running server tries again every minute.
func (a *Admin) Purge(ctx context.Context, grace time.Duration, minPrevalence int) (PurgeReport, error) {
	db, _, err := a.openKeys(ctx, KEKSource{}, true)
	if err != nil {
		return PurgeReport{}, err
	}
	defer db.Close()
	res, err := (&Retention{Store: db, Grace: grace, MinPrevalence: minPrevalence, Now: a.Now}).PurgeNow(ctx)
	if err != nil {
		return PurgeReport{}, err
	}
	held, err := db.SealedCounts(ctx)
	if err != nil {
		return PurgeReport{}, err
	}
	rep := PurgeReport{PurgeResult: res, Kept: []KeptHalfYear{}}
	rep.Purged = nonNil(rep.Purged)
	for _, h := range held {
		rep.Kept = append(rep.Kept, KeptHalfYear{h.HalfYear, h.Records, purgeAfter(h.HalfYear, grace)})
	}
	return rep, nil
}

// purgeAfter is when a half-year becomes due for its purge.
func purgeAfter(label string, grace time.Duration) time.Time {
	l, err := halfyear.Parse(label)
	if err != nil {
		return time.Time{}
	}
	return l.End().Add(grace)
}

// VerifyReport counts, per half-year, the sealed records and how many the
// key opened. Its JSON form is the documented schema of `ksn admin verify
// --json`.
type VerifyReport struct {
	HalfYears []store.SealedHalfYear `json:"half_years"` // oldest first
	OK        bool                   `json:"ok"`         // every record opened
	KEKFile   string                 `json:"-"`          // the key file used
}

// Verify opens every sealed submission with the key-encryption key from
// kek (the default file when it names none: KeyPlaces) and counts
// what opens; nothing of the records is read out. A key that is not the
// database's is a usage error; records that do not open are not an error
// but a report that is not OK.
func (a *Admin) Verify(ctx context.Context, kek KEKSource) (VerifyReport, error) {
	db, placed, err := a.openKeys(ctx, kek, false)
	if err != nil {
		return VerifyReport{}, err
	}
	defer db.Close()
	kc := placed.KEK
	key, _, err := loadKEK(ctx, a.Warn, db, kc, false)
	if err != nil {
		return VerifyReport{}, err
	}
	if err := db.UseKEK(ctx, key); err != nil {
		return VerifyReport{}, wrongKEK(err, kc, db.Path())
	}
	counts, err := db.VerifySealed(ctx)
	if err != nil {
		return VerifyReport{}, err
	}
	rep := VerifyReport{HalfYears: nonNil(counts), OK: true, KEKFile: kc.Path}
	for _, c := range counts {
		if c.Opened != c.Records {
			rep.OK = false
		}
	}
	return rep, nil
}
