package store

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/ksnproject/ksn/pkg/seal"
)

// pgSeatFor is seatFor on PostgreSQL, in the batch's transaction, in the
// other order: the code is inserted first, so that a code seen before
// costs one statement, and two batches bringing the same new code at once
// take one seat (the second insert waits for the first and finds it). A
// new code then takes a seat while one is free (the license's row is
// locked by the update until commit, so concurrent batches count in
// turn); when none is, its insert is undone.
func pgSeatFor(ctx context.Context, tx pgx.Tx, label string, key seal.Key, license int64, seats int, part []byte) (bool, error) {
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(license))
	code := seatTag(key, "code", id[:], part)
	tag, err := tx.Exec(ctx, `INSERT INTO seated_codes (half_year, code) VALUES ($1, $2) ON CONFLICT DO NOTHING`, label, code)
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 {
		return true, nil // seated before
	}
	var used int
	err = tx.QueryRow(ctx, `INSERT INTO license_seats (half_year, license, used) VALUES ($1, $2, 1)
ON CONFLICT (half_year, license) DO UPDATE SET used = license_seats.used + 1 WHERE license_seats.used < $3
RETURNING used`, label, seatTag(key, "license", id[:]), max(seats, 1)).Scan(&used)
	if errors.Is(err, pgx.ErrNoRows) { // every seat is taken
		_, err = tx.Exec(ctx, `DELETE FROM seated_codes WHERE half_year = $1 AND code = $2`, label, code)
		return false, err
	}
	return err == nil, err
}

// pgCheckReused is Server.checkReused on PostgreSQL: the ids of the batch
// that the insert skipped (first: id to its first index; inserted: the
// ids it stored) are compared with what is stored, in one statement, and
// the first in batch order that differs refuses the batch.
func (s *PostgresServer) pgCheckReused(ctx context.Context, tx pgx.Tx, b *pgBatch, cur *dataKey, digests [][]byte, first map[string]int, inserted map[string]bool) error {
	var skipped [][]byte
	for id := range first {
		if !inserted[id] {
			skipped = append(skipped, []byte(id))
		}
	}
	check := newReuseCheck(&s.sealing, b.keys, cur, b.subs, digests)
	reused := -1
	rows, _ := tx.Query(ctx, `SELECT id, half_year, digest FROM sealed_submissions WHERE id = ANY($1)`, skipped)
	var id, stored []byte
	var label string
	_, err := pgx.ForEachRow(rows, []any{&id, &label, &stored}, func() error {
		i := first[string(id)]
		same, err := check.same(i, label, stored)
		if err == nil && !same && (reused < 0 || i < reused) {
			reused = i
		}
		return err
	})
	if err != nil {
		return err
	}
	if reused >= 0 {
		return &IDReusedError{Index: reused, ID: b.subs[reused].Record.ID}
	}
	return nil
}
