package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
)

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

// UseDataKeys does nothing yet on PostgreSQL: its data keys are still in
// the database (submission_keys), as before the merge of issue 14.
func (s *PostgresServer) UseDataKeys(ctx context.Context, keys DataKeys) (int, error) { return 0, nil }

// SetLicenseSeats is not yet on PostgreSQL: its licenses have no seats.
func (s *PostgresServer) SetLicenseSeats(ctx context.Context, keyOrID string, seats int) (License, error) {
	return License{}, errors.New("set license seats: not yet on PostgreSQL")
}
