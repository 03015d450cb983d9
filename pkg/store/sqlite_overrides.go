package store

import (
	"context"
	"fmt"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// SetOverride records an operator's verdict for one digest under the
// source reputation.OverrideSource, replacing any earlier override of that
// digest. An override wins over every other source (see reputation.Merge).
func (s *Server) SetOverride(ctx context.Context, ind reputation.FileIndicator) error {
	if err := validIndicator(ind); err != nil {
		return fmt.Errorf("set override: %w", err)
	}
	var firstSeen any
	if !ind.FirstSeen.IsZero() {
		firstSeen = ind.FirstSeen.Unix()
	}
	size := ind.Size
	if size < 0 {
		size = -1
	}
	now := s.now().Unix()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set override: %w", explainWrite(err))
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO file_indicators (`+indicatorColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
ON CONFLICT (algorithm, digest, source) DO UPDATE SET
	size        = excluded.size,
	verdict     = excluded.verdict,
	threat_name = excluded.threat_name,
	category    = excluded.category,
	first_seen  = excluded.first_seen,
	last_seen   = excluded.last_seen`,
		string(ind.Algorithm), ind.Digest, reputation.OverrideSource, size, string(ind.Verdict),
		ind.ThreatName, ind.Category, firstSeen, now, now)
	if err == nil {
		_, err = bumpKeyGeneration(ctx, tx)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return fmt.Errorf("set override: %w", explainWrite(err))
	}
	return nil
}

// UnsetOverride removes the override of one digest. Without one, the error
// wraps ErrNotFound.
func (s *Server) UnsetOverride(ctx context.Context, alg checksum.Algorithm, digest []byte) error {
	if !alg.Valid() {
		return fmt.Errorf("unset override: unknown digest algorithm %q", alg)
	}
	res, err := s.db.ExecContext(ctx,
		`DELETE FROM file_indicators WHERE algorithm = ? AND digest = ? AND source = ?`,
		string(alg), digest, reputation.OverrideSource)
	if err != nil {
		return fmt.Errorf("unset override: %w", explainWrite(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("unset override: %w", err)
	} else if n == 0 {
		return fmt.Errorf("unset override: no override for %s %x: %w", alg, digest, ErrNotFound)
	}
	return nil
}

// SetURLOverride records an operator's verdict for one link expression
// under reputation.OverrideSource, replacing any earlier override of it.
// It wins over every other source of a link whose expressions include it
// (reputation.MergeURLs): an override of a host covers its paths.
func (s *Server) SetURLOverride(ctx context.Context, ind reputation.URLIndicator) error {
	if err := validURLIndicator(ind); err != nil {
		return fmt.Errorf("set override: %w", err)
	}
	now := s.now().Unix()
	_, err := s.db.ExecContext(ctx, `INSERT INTO url_indicators (`+urlColumns+`)
VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL)
ON CONFLICT (hash, source) DO UPDATE SET
	expression  = excluded.expression,
	verdict     = excluded.verdict,
	threat_name = excluded.threat_name,
	category    = excluded.category,
	last_seen   = excluded.last_seen`,
		ind.Hash[:], reputation.OverrideSource, ind.Expression, string(ind.Verdict), ind.ThreatName, ind.Category, now, now)
	if err != nil {
		return fmt.Errorf("set override: %w", explainWrite(err))
	}
	return nil
}

// UnsetURLOverride removes the override of one link expression (by its
// hash). Without one, the error wraps ErrNotFound.
func (s *Server) UnsetURLOverride(ctx context.Context, hash URLHash) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM url_indicators WHERE hash = ? AND source = ?`, hash[:], reputation.OverrideSource)
	if err != nil {
		return fmt.Errorf("unset override: %w", explainWrite(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("unset override: %w", err)
	} else if n == 0 {
		return fmt.Errorf("unset override: no override for that link: %w", ErrNotFound)
	}
	return nil
}
