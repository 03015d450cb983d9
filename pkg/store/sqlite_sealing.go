package store

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/seal"
)

// settingKEKCheck is the server_settings row holding seal.CheckValue of
// the database's KEK.
const settingKEKCheck = "kek_check"

// Purposes of the keys derived from a data key.
const (
	dedupPurpose = "ksn-participant-dedup-v1"
	seatsPurpose = "ksn-license-seats-v1"
	// digestPurpose: sqlite_digest.go
)

// sealing is a database's key-encryption key, the place of its data keys
// and the data key of the half-year last written.
type sealing struct {
	mu   sync.Mutex
	kek  *seal.Key
	keys DataKeys // nil: not given yet (keysFor)
	cur  *dataKey // nil: none yet
}

// dataKey is an unwrapped data key, with the wrapped bytes it came from:
// it is used only while the database still holds exactly those.
type dataKey struct {
	label   string
	wrapped []byte
	sealer  *seal.Sealer
	dedup   seal.Key // of submission_participants
	seats   seal.Key // of license_seats and seated_codes
	digest  seal.Key // of sealed_submissions.digest
}

func newDataKey(label string, wrapped []byte, k seal.Key) *dataKey {
	return &dataKey{label: label, wrapped: wrapped, sealer: seal.NewSealer(k),
		dedup: seal.Derive(k, dedupPurpose), seats: seal.Derive(k, seatsPurpose), digest: seal.Derive(k, digestPurpose)}
}

// UnlockSubmissions gives the database the KEK that seals submissions. The
// first KEK given to a database is bound to it (its check value is
// stored); from then on any other KEK is refused with a *KEKMismatchError,
// so that a server started with the wrong file cannot write records that
// the right one could not read.
func (s *Server) UnlockSubmissions(ctx context.Context, kek seal.Key) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO server_settings (name, value) VALUES (?, ?)
ON CONFLICT (name) DO NOTHING`, settingKEKCheck, seal.CheckValue(kek)); err != nil {
		return fmt.Errorf("bind key-encryption key: %w", explainWrite(err))
	}
	return s.UseKEK(ctx, kek)
}

// UseKEK is UnlockSubmissions without binding: for reading what is sealed.
// A database that never had a KEK accepts any (it holds nothing sealed).
func (s *Server) UseKEK(ctx context.Context, kek seal.Key) error {
	stored, ok, err := s.setting(ctx, settingKEKCheck)
	if err != nil {
		return fmt.Errorf("read key-encryption key check: %w", err)
	}
	if got := seal.CheckValue(kek); ok && !hmac.Equal([]byte(stored), []byte(got)) {
		return &KEKMismatchError{Want: seal.Fingerprint(stored), Got: seal.Fingerprint(got)}
	}
	s.sealing.mu.Lock()
	s.sealing.kek = &kek
	s.sealing.cur = nil
	s.sealing.mu.Unlock()
	return nil
}

// KEKBound reports whether a KEK was ever bound to the database, and its
// fingerprint.
func (s *Server) KEKBound(ctx context.Context) (fingerprint string, ok bool, err error) {
	v, ok, err := s.setting(ctx, settingKEKCheck)
	if err != nil || !ok {
		return "", false, err
	}
	return seal.Fingerprint(v), true, nil
}

// dataKeyFor returns the data key of the half-year label, creating it when
// the half-year has none yet, inside the batch's write transaction: the
// checks below and the creation happen under the database's write lock,
// and keys.Create makes racing processes agree on one key.
func (s *Server) dataKeyFor(ctx context.Context, tx *sql.Tx, keys DataKeys, label string, at time.Time) (*dataKey, error) {
	s.sealing.mu.Lock()
	kek, cur := s.sealing.kek, s.sealing.cur
	s.sealing.mu.Unlock()
	if kek == nil {
		return nil, ErrNoKEK
	}
	wrapped, err := keys.Load(label)
	switch {
	case err == nil:
		if cur != nil && cur.label == label && hmac.Equal(cur.wrapped, wrapped) {
			return cur, nil
		}
	case errors.Is(err, fs.ErrNotExist):
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM purged_half_years WHERE half_year = ?`, label).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, fmt.Errorf("a record received at %s belongs to %s: %w (is the server's clock right?)", at.Format(time.RFC3339), label, ErrPurged)
		}
		// Records of the half-year without its key: the key file was
		// lost (another key directory, a restore, a hand edit). A new
		// key would seal the next records while the earlier ones stay
		// unreadable, in silence.
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sealed_submissions WHERE half_year = ?`, label).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, fmt.Errorf("%d sealed records of %s have no data key: %w", n, label, ErrKeyMissing)
		}
		k, err := seal.NewKey()
		if err != nil {
			return nil, err
		}
		if wrapped, err = seal.Wrap(*kek, label, k); err != nil {
			return nil, err
		}
		if wrapped, err = keys.Create(label, wrapped); err != nil {
			return nil, fmt.Errorf("store the data key of %s: %w", label, err)
		}
	default:
		return nil, fmt.Errorf("read the data key of %s: %w", label, err)
	}
	k, err := seal.Unwrap(*kek, label, wrapped)
	if err != nil {
		return nil, err
	}
	dk := newDataKey(label, wrapped, k)
	s.sealing.mu.Lock()
	s.sealing.cur = dk
	s.sealing.mu.Unlock()
	return dk, nil
}

// halfYearKey returns the data key of a half-year that holds records,
// unwrapped with the KEK.
func (sg *sealing) halfYearKey(keys DataKeys, label string) (seal.Key, error) {
	sg.mu.Lock()
	kek := sg.kek
	sg.mu.Unlock()
	if kek == nil {
		return seal.Key{}, ErrNoKEK
	}
	wrapped, err := keys.Load(label)
	if errors.Is(err, fs.ErrNotExist) {
		return seal.Key{}, fmt.Errorf("%s: %w", label, ErrKeyMissing)
	}
	if err != nil {
		return seal.Key{}, err
	}
	return seal.Unwrap(*kek, label, wrapped)
}

// ReadSubmissions opens every sealed record, oldest half-year first, and
// calls fn with its half-year and the record as it was received. A record
// that does not open (its key destroyed, or altered bytes) is an error
// wrapping seal.ErrOpen. It needs the KEK (UseKEK). It is for operators
// checking a key or a backup (VerifySealed), and for tests: nothing in ksn
// prints what it reads.
func (s *Server) ReadSubmissions(ctx context.Context, fn func(halfYear string, rec api.Record) error) error {
	return s.eachSealed(ctx, func(label string, id, pt []byte, err error) error {
		if err != nil {
			return err
		}
		var rec api.Record
		if err := json.Unmarshal(pt, &rec); err != nil {
			return fmt.Errorf("record %x of %s: %w", id, label, err)
		}
		return fn(label, rec)
	})
}

// VerifySealed opens every sealed record with the KEK (UseKEK) and counts,
// per half-year, how many there are and how many opened; it reads nothing
// out. An error means that the records could not be read at all.
func (s *Server) VerifySealed(ctx context.Context) ([]SealedHalfYear, error) {
	counts, err := s.SealedCounts(ctx)
	if err != nil {
		return nil, err
	}
	idx := map[string]int{}
	for i, c := range counts {
		idx[c.HalfYear] = i
	}
	err = s.eachSealed(ctx, func(label string, _, _ []byte, err error) error {
		if i, ok := idx[label]; ok && err == nil {
			counts[i].Opened++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify sealed records: %w", err)
	}
	return counts, nil
}

// eachSealed opens every sealed record in one read snapshot and calls fn
// with the plaintext, or with the error that kept it from opening.
func (s *Server) eachSealed(ctx context.Context, fn func(label string, id, plaintext []byte, err error) error) error {
	s.sealing.mu.Lock()
	kek := s.sealing.kek
	s.sealing.mu.Unlock()
	if kek == nil {
		return ErrNoKEK
	}
	keys, err := s.keysFor(ctx)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	sealers := map[string]*seal.Sealer{}
	var aad []byte
	return eachRow(ctx, tx, `SELECT id, half_year, sealed FROM sealed_submissions ORDER BY half_year, id`, nil, func(r *sql.Rows) error {
		var id, sealed []byte
		var label string
		if err := r.Scan(&id, &label, &sealed); err != nil {
			return err
		}
		sl, ok := sealers[label]
		if !ok {
			wrapped, err := keys.Load(label)
			if errors.Is(err, fs.ErrNotExist) {
				return fn(label, id, nil, fmt.Errorf("record %x of %s: its data key is destroyed: %w", id, label, seal.ErrOpen))
			}
			if err != nil {
				return err
			}
			k, err := seal.Unwrap(*kek, label, wrapped)
			if err != nil {
				return err // the KEK does not match: nothing will open
			}
			sl = seal.NewSealer(k)
			sealers[label] = sl
		}
		aad = append(append(aad[:0], id...), label...)
		pt, err := sl.Open(aad, sealed)
		if err != nil {
			err = fmt.Errorf("record %x of %s: %w", id, label, err)
		}
		return fn(label, id, pt, err)
	})
}
