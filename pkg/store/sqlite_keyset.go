package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ksnproject/ksn/pkg/checksum"
)

// KeySet holds the (algorithm, digest) keys of every file indicator of a
// small database: a check asks it first, and asks SQLite only about the
// files one of whose digests it holds.
type KeySet struct {
	keys map[digestKey]struct{}
}

// MayMatch reports whether an indicator may match f: false means none does.
func (k *KeySet) MayMatch(f FileDigests) bool {
	for alg, d := range f {
		if _, ok := k.keys[digestKey{alg, string(d)}]; ok {
			return true
		}
	}
	return false
}

// SmallKeySet returns the keys of every file indicator when the database
// holds at most max of them, and ok false when it holds more. For a fresh
// or lightly fed database (the baseline, a day of MalwareBazaar), this
// turns 20,000 SQLite searches into 20,000 map probes; a large one is
// searched as before. The set is a snapshot: what another process imports
// later is not in it, so a caller keeps it for one run at most.
func (s *Local) SmallKeySet(ctx context.Context, max int) (set *KeySet, ok bool, err error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, false, fmt.Errorf("read indicator keys: %w", err)
	}
	defer tx.Rollback()
	// One row past max answers "more than max" without counting them all.
	var more int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM file_indicators LIMIT ?)`, max+1).Scan(&more)
	if err != nil {
		return nil, false, fmt.Errorf("read indicator keys: %w", err)
	}
	if more > max {
		return nil, false, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT algorithm, digest FROM file_indicators`)
	if err != nil {
		return nil, false, fmt.Errorf("read indicator keys: %w", err)
	}
	defer rows.Close()
	set = &KeySet{keys: make(map[digestKey]struct{}, more)}
	for rows.Next() {
		var alg string
		var digest []byte
		if err := rows.Scan(&alg, &digest); err != nil {
			return nil, false, fmt.Errorf("read indicator keys: %w", err)
		}
		set.keys[digestKey{checksum.Algorithm(alg), string(digest)}] = struct{}{}
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("read indicator keys: %w", err)
	}
	return set, true, nil
}
