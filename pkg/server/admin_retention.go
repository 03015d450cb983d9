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

// PurgeReport says what Purge destroyed, and what it kept until when.
type PurgeReport struct {
	store.PurgeResult
	Kept []KeptHalfYear // oldest first
}

// KeptHalfYear is a half-year whose sealed records are still held.
type KeptHalfYear struct {
	HalfYear   string
	Records    int64
	PurgeAfter time.Time // when it becomes due for the purge
}

// Purge destroys now every half-year that ended more than grace ago, as a
// running server does hourly (Retention): its data key, its sealed records
// and its participant rows. It needs no key.
func (a *Admin) Purge(ctx context.Context, grace time.Duration) (PurgeReport, error) {
	db, err := a.open(ctx)
	if err != nil {
		return PurgeReport{}, err
	}
	defer db.Close()
	res, err := (&Retention{Store: db, Grace: grace, Now: a.Now}).PurgeNow(ctx)
	if err != nil {
		return PurgeReport{}, err
	}
	held, err := db.SealedCounts(ctx)
	if err != nil {
		return PurgeReport{}, err
	}
	rep := PurgeReport{PurgeResult: res}
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
// key opened.
type VerifyReport struct {
	HalfYears []store.SealedHalfYear // oldest first
	OK        bool                   // every record opened
	KEKFile   string                 // the key file used
}

// Verify opens every sealed submission with the key-encryption key from
// kek (the default file beside the database when it names none) and counts
// what opens; nothing of the records is read out. A key that is not the
// database's is a usage error; records that do not open are not an error
// but a report that is not OK.
func (a *Admin) Verify(ctx context.Context, kek KEKSource) (VerifyReport, error) {
	db, err := a.open(ctx)
	if err != nil {
		return VerifyReport{}, err
	}
	defer db.Close()
	if err := needKEKFile(a.DB, kek); err != nil {
		return VerifyReport{}, err
	}
	kc := kek.resolve(db.Path())
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
	rep := VerifyReport{HalfYears: counts, OK: true, KEKFile: kc.Path}
	for _, c := range counts {
		if c.Opened != c.Records {
			rep.OK = false
		}
	}
	return rep, nil
}
