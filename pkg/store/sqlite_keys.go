package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"

	"github.com/ksnproject/ksn/pkg/seal"
)

// Names of server_settings rows of retention.
const (
	settingDatabaseID        = "database_id"
	settingCheckpointPending = "purge_checkpoint_pending" // "1": a destroyed page may linger in the WAL
)

// DatabaseID returns the database's random identity (32 hex characters),
// made on the first call. A copy of the database has the same: `ksn
// serve` names the default key directory and key-encryption key file of a
// database by it, so that a restored backup finds the keys that still
// exist, and two databases never share one.
func (s *Server) DatabaseID(ctx context.Context) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO server_settings (name, value) VALUES (?, ?)
ON CONFLICT (name) DO NOTHING`, settingDatabaseID, hex.EncodeToString(b)); err != nil {
		return "", fmt.Errorf("database id: %w", explainWrite(err))
	}
	id, _, err := s.setting(ctx, settingDatabaseID)
	if err != nil {
		return "", fmt.Errorf("database id: %w", err)
	}
	return id, nil
}

// UseDataKeys gives the database the place of its wrapped data keys, and
// moves there the keys an earlier version kept in the database itself
// (the submission_keys table): each is stored in keys, then its row
// deleted with secure_delete and the WAL checkpointed, so that from then
// on a copy of the database holds no data key. moved counts the keys
// moved. A key that keys holds already with other bytes stops the move:
// the operator gave the key directory of another database.
//
// Every method that seals, opens or purges records uses keys; a database
// never given any uses a directory beside its file (<path>.keys), which
// only tests and tools should rely on: `ksn serve` and `ksn admin` give
// one outside the database's directory.
func (s *Server) UseDataKeys(ctx context.Context, keys DataKeys) (moved int, err error) {
	s.sealing.mu.Lock()
	s.sealing.keys = keys
	s.sealing.cur = nil
	s.sealing.mu.Unlock()

	type row struct {
		label   string
		wrapped []byte
	}
	var rows []row
	if err := eachRow(ctx, s.db, `SELECT half_year, wrapped FROM submission_keys ORDER BY half_year`, nil, func(r *sql.Rows) error {
		var k row
		err := r.Scan(&k.label, &k.wrapped)
		rows = append(rows, k)
		return err
	}); err != nil {
		return 0, fmt.Errorf("move data keys out of the database: %w", err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	for _, k := range rows {
		stored, err := keys.Create(k.label, k.wrapped)
		if err != nil {
			return moved, fmt.Errorf("move the data key of %s out of the database: %w", k.label, err)
		}
		if !bytes.Equal(stored, k.wrapped) {
			return moved, fmt.Errorf("move the data key of %s out of the database: the key directory holds another key for it (is it another database's?)", k.label)
		}
	}
	conn, restore, err := s.secureConn(ctx)
	if err != nil {
		return 0, fmt.Errorf("move data keys out of the database: %w", err)
	}
	defer conn.Close()
	defer restore()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, explainWrite(err)
	}
	defer tx.Rollback()
	for _, k := range rows {
		r, err := tx.ExecContext(ctx, `DELETE FROM submission_keys WHERE half_year = ? AND wrapped = ?`, k.label, k.wrapped)
		if err != nil {
			return 0, fmt.Errorf("move data keys out of the database: %w", explainWrite(err))
		}
		n, _ := r.RowsAffected()
		moved += int(n)
	}
	if err := markCheckpointPending(ctx, tx); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("move data keys out of the database: %w", explainWrite(err))
	}
	if _, err := s.checkpointPending(ctx, conn); err != nil {
		return moved, fmt.Errorf("move data keys out of the database: checkpoint: %w", err)
	}
	return moved, nil
}

// keysFor returns the data keys' place, giving the database the one
// beside its file when it was never given one. Call it before beginning
// a transaction: moving keys out of the database writes.
func (s *Server) keysFor(ctx context.Context) (DataKeys, error) {
	s.sealing.mu.Lock()
	keys := s.sealing.keys
	s.sealing.mu.Unlock()
	if keys != nil {
		return keys, nil
	}
	keys = seal.KeyDir{Path: s.path + ".keys"}
	if _, err := s.UseDataKeys(ctx, keys); err != nil {
		return nil, err
	}
	return keys, nil
}

// secureConn returns a connection with SQLite's secure_delete on (freed
// content is overwritten with zeros), and the function that puts it back
// as it was before the connection returns to the pool.
func (s *Server) secureConn(ctx context.Context) (*sql.Conn, func(), error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	var was int
	if err := conn.QueryRowContext(ctx, `PRAGMA secure_delete`).Scan(&was); err != nil {
		conn.Close()
		return nil, nil, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		conn.Close()
		return nil, nil, err
	}
	restore := func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA secure_delete = %d`, was))
	}
	return conn, restore, nil
}

// markCheckpointPending records, in the transaction that destroys
// something, that the WAL must be checkpointed before the destroyed pages
// are gone from every file: a reader may keep the checkpoint from
// completing, and the next purge has to know to try again.
func markCheckpointPending(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO server_settings (name, value) VALUES (?, '1')
ON CONFLICT (name) DO NOTHING`, settingCheckpointPending)
	return explainWrite(err)
}

// checkpointPending checkpoints and truncates the WAL when a destruction
// asked for it, and clears the request once that succeeded. done is false
// while a checkpoint is still owed.
func (s *Server) checkpointPending(ctx context.Context, conn *sql.Conn) (done bool, err error) {
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM server_settings WHERE name = ?`, settingCheckpointPending).Scan(&n); err != nil {
		return false, err
	}
	if n == 0 {
		return true, nil
	}
	if done, err = checkpointTruncate(ctx, conn); err != nil || !done {
		return false, err
	}
	// The flag goes only after the checkpoint above copied every
	// destroyed page out; its deletion is written to the WAL in turn,
	// which a last checkpoint empties (should a reader keep that one
	// from completing, nothing destroyed is left in the WAL anyway).
	if _, err := conn.ExecContext(ctx, `DELETE FROM server_settings WHERE name = ?`, settingCheckpointPending); err != nil {
		return false, explainWrite(err)
	}
	if _, err := checkpointTruncate(ctx, conn); err != nil {
		return false, err
	}
	return true, nil
}
