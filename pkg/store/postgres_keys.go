package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ksnproject/ksn/pkg/seal"
)

// ErrNoDataKeys reports a PostgreSQL database used for sealed records
// before UseDataKeys gave it the place of its data keys: unlike a SQLite
// file, it has no directory of its own to keep a default beside.
var ErrNoDataKeys = errors.New("no place for the data keys was given (UseDataKeys)")

// ErrForeignKey reports a data key that is not the one the database's
// records of its half-year are sealed under: the key directory is another
// database's, or another replica's that was not shared.
var ErrForeignKey = errors.New("the key directory holds another data key than the one this database's records are sealed under (every replica must use the same key directory)")

// lackedKeyError says that the key directory lacks the key of a
// half-year the database has records (or a key hash) of. It is an
// ErrKeyMissing, of a cause the operator can fix.
type lackedKeyError struct{ label string }

// Error says what to do.
func (e *lackedKeyError) Error() string {
	return fmt.Sprintf("the key directory lacks the data key of %s that this database's records are sealed under: give every replica the same key directory (--key-dir), or restore its key file", e.label)
}

// Is makes errors.Is(err, ErrKeyMissing) hold.
func (e *lackedKeyError) Is(target error) bool { return target == ErrKeyMissing }

// DatabaseID is Server.DatabaseID: made on the first call, in
// server_settings, so that every replica reads the same.
func (s *PostgresServer) DatabaseID(ctx context.Context) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO server_settings (name, value) VALUES ($1, $2)
ON CONFLICT (name) DO NOTHING`, settingDatabaseID, hex.EncodeToString(b)); err != nil {
		return "", fmt.Errorf("database id: %w", err)
	}
	id, _, err := s.setting(ctx, settingDatabaseID)
	if err != nil {
		return "", fmt.Errorf("database id: %w", err)
	}
	return id, nil
}

// UseDataKeys is Server.UseDataKeys. The keys an earlier version kept in
// submission_keys are moved to keys, their rows deleted and the table
// rewritten (VACUUM FULL, see vacuumOwed), and data_key_hashes records
// each. Then every half-year the database has a key hash of must have its
// key in keys, with that hash: a replica given a key directory other
// than the one the others share is refused here, at its start, rather
// than when it would seal records under a second key.
func (s *PostgresServer) UseDataKeys(ctx context.Context, keys DataKeys) (moved int, err error) {
	fail := func(err error) (int, error) { return moved, fmt.Errorf("data keys: %w", err) }
	s.sealing.mu.Lock()
	s.sealing.keys = keys
	s.sealing.cur = nil
	s.sealing.mu.Unlock()

	rows, _ := s.pool.Query(ctx, `SELECT half_year, wrapped FROM submission_keys ORDER BY half_year`)
	type row struct {
		Label   string
		Wrapped []byte
	}
	old, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return fail(err)
	}
	for _, k := range old {
		stored, err := keys.Create(k.Label, k.Wrapped)
		if err != nil {
			return fail(fmt.Errorf("move the data key of %s out of the database: %w", k.Label, err))
		}
		if !bytes.Equal(stored, k.Wrapped) {
			return fail(fmt.Errorf("move the data key of %s out of the database: %w", k.Label, ErrForeignKey))
		}
	}
	if len(old) > 0 {
		err = s.inTx(ctx, func(tx pgx.Tx) error {
			moved = 0
			for _, k := range old {
				tag, err := tx.Exec(ctx, `DELETE FROM submission_keys WHERE half_year = $1 AND wrapped = $2`, k.Label, k.Wrapped)
				if err != nil {
					return err
				}
				moved += int(tag.RowsAffected())
				h := sha256.Sum256(k.Wrapped)
				if _, err := tx.Exec(ctx, `INSERT INTO data_key_hashes (half_year, wrapped_sha256) VALUES ($1, $2)
ON CONFLICT (half_year) DO NOTHING`, k.Label, h[:]); err != nil {
					return err
				}
			}
			return markVacuumOwed(ctx, tx)
		})
		if err != nil {
			return fail(err)
		}
		if _, err := s.vacuumOwed(ctx); err != nil {
			return fail(err)
		}
	}
	return moved, s.checkKeyDir(ctx, keys)
}

// checkKeyDir checks that keys holds the key of every half-year whose key
// hash the database keeps, and that key.
func (s *PostgresServer) checkKeyDir(ctx context.Context, keys DataKeys) error {
	rows, _ := s.pool.Query(ctx, `SELECT half_year, wrapped_sha256 FROM data_key_hashes ORDER BY half_year`)
	var label string
	var want []byte
	_, err := pgx.ForEachRow(rows, []any{&label, &want}, func() error {
		wrapped, err := keys.Load(label)
		if errors.Is(err, fs.ErrNotExist) {
			return &lackedKeyError{label}
		}
		if err != nil {
			return err
		}
		if got := sha256.Sum256(wrapped); !hmac.Equal(got[:], want) {
			return fmt.Errorf("%s: %w", label, ErrForeignKey)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("data keys: %w", err)
	}
	return nil
}

// keysFor returns the place of the data keys; a PostgreSQL database has
// no default one.
func (s *PostgresServer) keysFor() (DataKeys, error) {
	s.sealing.mu.Lock()
	defer s.sealing.mu.Unlock()
	if s.sealing.keys == nil {
		return nil, ErrNoDataKeys
	}
	return s.sealing.keys, nil
}

// pgDataKeyFor is dataKeyFor on PostgreSQL, inside the batch's
// transaction. The key is the one in keys (keys.Create makes replicas
// sharing the directory agree on one); data_key_hashes makes replicas
// agree on it through the database: the first to use a half-year's key
// records its hash, and a replica whose directory holds another key, or
// none of a half-year the database has records of, fails instead of
// sealing under a key of its own.
func (s *PostgresServer) pgDataKeyFor(ctx context.Context, tx pgx.Tx, keys DataKeys, label string, at time.Time) (*dataKey, error) {
	s.sealing.mu.Lock()
	kek, cur := s.sealing.kek, s.sealing.cur
	s.sealing.mu.Unlock()
	if kek == nil {
		return nil, ErrNoKEK
	}
	wrapped, err := keys.Load(label)
	made := false
	if errors.Is(err, fs.ErrNotExist) {
		var purged, known bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM purged_half_years WHERE half_year = $1),
    EXISTS (SELECT 1 FROM data_key_hashes WHERE half_year = $1)`, label).Scan(&purged, &known); err != nil {
			return nil, err
		}
		switch {
		case purged:
			return nil, fmt.Errorf("a record received at %s belongs to %s: %w (is the server's clock right?)", at.Format(time.RFC3339), label, ErrPurged)
		case known:
			// Made a moment ago by a replica sharing the directory, or
			// missing from this one.
			if wrapped, err = keys.Load(label); errors.Is(err, fs.ErrNotExist) {
				return nil, &lackedKeyError{label}
			}
		default:
			if wrapped, err = newWrappedKey(*kek, label); err == nil {
				wrapped, err = keys.Create(label, wrapped)
			}
			made = true
		}
	}
	if err != nil {
		return nil, fmt.Errorf("the data key of %s: %w", label, err)
	}
	if !made && cur != nil && cur.label == label && hmac.Equal(cur.wrapped, wrapped) {
		return cur, nil
	}
	if err := claimKeyHash(ctx, tx, label, wrapped, made); err != nil {
		return nil, err
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

// newWrappedKey makes a half-year's data key, wrapped by kek.
func newWrappedKey(kek seal.Key, label string) ([]byte, error) {
	k, err := seal.NewKey()
	if err != nil {
		return nil, err
	}
	return seal.Wrap(kek, label, k)
}

// claimKeyHash records the hash of a half-year's wrapped key, or checks
// it against the one recorded. A replica inserting it at the same moment
// makes this insert wait for its transaction, then compare. made says
// that this process found no key file and created (or, racing another
// process on the same directory, took) the key: when its hash is the
// first recorded, records of the half-year already stored were sealed
// under a key that is gone.
func claimKeyHash(ctx context.Context, tx pgx.Tx, label string, wrapped []byte, made bool) error {
	h := sha256.Sum256(wrapped)
	var stored []byte
	err := tx.QueryRow(ctx, `INSERT INTO data_key_hashes (half_year, wrapped_sha256) VALUES ($1, $2)
ON CONFLICT (half_year) DO NOTHING RETURNING wrapped_sha256`, label, h[:]).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		if err := tx.QueryRow(ctx, `SELECT wrapped_sha256 FROM data_key_hashes WHERE half_year = $1`, label).Scan(&stored); err != nil {
			return err
		}
		if !hmac.Equal(stored, h[:]) {
			return fmt.Errorf("%s: %w", label, ErrForeignKey)
		}
		return nil
	}
	if err != nil || !made {
		return err
	}
	var orphans int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM sealed_submissions WHERE half_year = $1`, label).Scan(&orphans); err != nil {
		return err
	}
	if orphans > 0 {
		return fmt.Errorf("%d sealed records of %s have no data key: %w", orphans, label, ErrKeyMissing)
	}
	return nil
}
