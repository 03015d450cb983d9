package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

// CachedVerdicts returns the unexpired cached network results for the
// given SHA-256 digests, keyed by the digest's string form.
func (s *Local) CachedVerdicts(ctx context.Context, sha256s [][]byte, now time.Time) (map[string]api.FileResult, error) {
	out := make(map[string]api.FileResult)
	for len(sha256s) > 0 {
		chunk := sha256s[:min(len(sha256s), lookupChunk)]
		sha256s = sha256s[len(chunk):]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, now.Unix())
		for _, d := range chunk {
			args = append(args, d)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT sha256, result FROM network_cache
			WHERE expires_at > ? AND sha256 IN (`+strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("network cache: %w", err)
		}
		for rows.Next() {
			var d []byte
			var raw string
			if err := rows.Scan(&d, &raw); err != nil {
				rows.Close()
				return nil, err
			}
			var r api.FileResult
			if json.Unmarshal([]byte(raw), &r) == nil { // a damaged row is a miss
				out[string(d)] = r
			}
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CacheVerdicts stores network results until now+ttl, replacing older ones.
func (s *Local) CacheVerdicts(ctx context.Context, results map[string]api.FileResult, now time.Time, ttl time.Duration) error {
	if len(results) == 0 || ttl <= 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO network_cache (sha256, result, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (sha256) DO UPDATE SET result = excluded.result, expires_at = excluded.expires_at`)
	if err != nil {
		return err
	}
	defer st.Close()
	exp := now.Add(ttl).Unix()
	for d, r := range results {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, []byte(d), string(b), exp); err != nil {
			return err
		}
	}
	return tx.Commit()
}
