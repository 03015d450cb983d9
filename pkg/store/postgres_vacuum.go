package store

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// settingVacuumOwed, in server_settings, says that rows were destroyed
// (a purge, data keys moved out) and not yet vacuumed: "" from the
// destroying transaction, then the database's clock just after it
// committed, in Unix microseconds.
const settingVacuumOwed = "purge_vacuum_owed"

// What PostgreSQL does where SQLite checkpoints its WAL. A DELETE leaves
// the row in the table's files, dead, until VACUUM frees its space, and a
// VACUUM frees only the rows that no open snapshot still sees. So the
// transaction that destroys marks a vacuum owed; vacuumOwed then waits a
// little for the transactions that began before that commit (sessions of
// this database with a snapshot), vacuums the tables destroyed from once
// none is left, and clears the mark; a purge beside a long reader reports
// Checkpointed false, and every later Purge tries again, as on SQLite.
//
// VACUUM makes the space reusable; it does not overwrite it, and the
// write-ahead log, its archives and base backups keep what they hold
// until they are recycled (README). What stays is ciphertext and keyed
// hashes whose data key was destroyed outside the database, and, until
// the space is reused, the per-object aggregates deleted with the
// half-year: VACUUM FULL object_stats rewrites that table into new files
// when an operator wants those gone from the files at once. The one table
// that held keys, submission_keys, is always rewritten (VACUUM FULL; it
// is empty, and nothing reads it but UseDataKeys).
const (
	vacuumTries = 10
	vacuumPause = 100 * time.Millisecond
)

// markVacuumOwed records, in the transaction that destroys, that a vacuum
// is owed.
func markVacuumOwed(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `INSERT INTO server_settings (name, value) VALUES ($1, '')
ON CONFLICT (name) DO UPDATE SET value = ''`, settingVacuumOwed)
	return err
}

// vacuumOwed vacuums when a destruction asked for it and no snapshot
// taken before it is left; done is false while a vacuum is still owed.
func (s *PostgresServer) vacuumOwed(ctx context.Context) (done bool, err error) {
	// The commit time, once: the next destruction sets "" again.
	if _, err := s.pool.Exec(ctx, `UPDATE server_settings
SET value = (extract(epoch FROM clock_timestamp()) * 1e6)::bigint::text WHERE name = $1 AND value = ''`, settingVacuumOwed); err != nil {
		return false, err
	}
	mark, ok, err := s.setting(ctx, settingVacuumOwed)
	if err != nil || !ok {
		return !ok, err
	}
	since, err := strconv.ParseInt(mark, 10, 64)
	if err != nil {
		since = time.Now().UnixMicro() // a damaged mark: wait for what runs now
	}
	for attempt := 1; ; attempt++ {
		var older int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL
    AND xact_start < to_timestamp($1::double precision / 1e6)`, since).Scan(&older); err != nil {
			return false, err
		}
		if older == 0 {
			break
		}
		if attempt == vacuumTries {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(vacuumPause):
		}
	}
	for _, q := range []string{
		`VACUUM FULL submission_keys`,
		`VACUUM sealed_submissions, submission_participants, license_seats, seated_codes, data_key_hashes, object_stats, spam_judgements`, // spam_judgements: deleted with object_stats (foreign key)
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			return false, err
		}
	}
	// Cleared only if no destruction marked it again meanwhile.
	if _, err := s.pool.Exec(ctx, `DELETE FROM server_settings WHERE name = $1 AND value = $2`, settingVacuumOwed, mark); err != nil {
		return false, err
	}
	return true, nil
}
