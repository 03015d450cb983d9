package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"

	"github.com/ksnproject/ksn/pkg/seal"
)

// seatFor decides, inside a batch's write transaction, whether the
// participant code part of license counts toward prevalence in the
// half-year label: a code the license brought before in the half-year
// does; a new one does while the license has a seat left (it takes it);
// any further code does not, so that one license cannot raise an
// object's prevalence above its seats by making codes up.
//
// What it writes is keyed by key (derived from the half-year's data key)
// and deleted with the half-year: seated_codes holds an HMAC of the
// (license, code) pair, license_seats an HMAC of the license and the count
// of its seats taken. Neither table holds a license id, a code or an
// object, and the two cannot be joined: that a license sent a given code
// can only be tested by who knows the code and holds the key.
func seatFor(ctx context.Context, tx *sql.Tx, label string, key seal.Key, license int64, seats int, part []byte) (bool, error) {
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(license))
	code := seatTag(key, "code", id[:], part)
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM seated_codes WHERE half_year = ? AND code = ?`, label, code).Scan(&one)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	// A new code takes a seat when one is free: the count only rises
	// while below the license's seats, in the same statement.
	var used int
	err = tx.QueryRowContext(ctx, `INSERT INTO license_seats (half_year, license, used) VALUES (?, ?, 1)
ON CONFLICT (half_year, license) DO UPDATE SET used = used + 1 WHERE used < ?
RETURNING used`, label, seatTag(key, "license", id[:]), max(seats, 1)).Scan(&used)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // every seat is taken
	}
	if err != nil {
		return false, explainWrite(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO seated_codes (half_year, code) VALUES (?, ?)`, label, code); err != nil {
		return false, explainWrite(err)
	}
	return true, nil
}

// seatTag is the first 16 bytes of HMAC-SHA256 under key of a purpose
// name and the given parts, each length-prefixed so that no two inputs
// share an encoding.
func seatTag(key seal.Key, purpose string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(purpose))
	for _, p := range parts {
		m.Write([]byte{byte(len(p))})
		m.Write(p)
	}
	return m.Sum(nil)[:16]
}
