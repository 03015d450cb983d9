package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// pgLookupSQL looks a whole batch up in one statement and one round trip:
// one array of digests per algorithm ($1.. in checksum.All order), each
// probed through the primary key. The EXISTS of an algorithm's branch is a
// one-time filter: when no indicator is keyed by the algorithm (BLAKE3,
// usually), its digests are not probed at all. pgx prepares the statement
// once per connection; its text does not depend on the batch's size.
var pgLookupSQL = func() string {
	var parts []string
	for i, a := range checksum.All {
		// The names are compile-time constants of package checksum.
		parts = append(parts, fmt.Sprintf(`SELECT '%[1]s', digest, source, size, verdict, threat_name, category, first_seen, added_at, last_seen
FROM file_indicators WHERE algorithm = '%[1]s' AND digest = ANY($%[2]d::bytea[])
AND EXISTS (SELECT 1 FROM file_indicators WHERE algorithm = '%[1]s')`, a, i+1))
	}
	return strings.Join(parts, "\nUNION ALL\n")
}()

// pgAlgorithmsSQL is algorithmsSQL (one index probe per algorithm).
var pgAlgorithmsSQL = algorithmsSQL

// LookupFiles is Store.LookupFiles: one result per query, in query order.
func (s *PostgresServer) LookupFiles(ctx context.Context, files []FileDigests) ([]reputation.Result, error) {
	results := make([]reputation.Result, len(files))
	for i := range results {
		results[i].Verdict = reputation.Unknown
	}
	byAlg := make([][][]byte, len(checksum.All))
	seen := make(map[digestKey]struct{}, 2*len(files))
	for _, f := range files {
		for alg, d := range f {
			if !alg.Valid() {
				return nil, fmt.Errorf("lookup files: unknown digest algorithm %q", alg)
			}
			if len(d) != alg.Size() {
				continue
			}
			k := digestKey{alg, string(d)}
			if _, ok := seen[k]; ok {
				continue
			}
			seen[k] = struct{}{}
			i := algIndex(alg)
			byAlg[i] = append(byAlg[i], d)
		}
	}
	if len(seen) == 0 {
		return results, nil
	}
	args := make([]any, len(byAlg))
	for i, ds := range byAlg {
		if ds == nil {
			ds = [][]byte{}
		}
		args[i] = ds
	}
	found := make(map[digestKey][]reputation.Sourced)
	rows, err := s.pool.Query(ctx, pgLookupSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("lookup files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			alg        string
			r          reputation.Sourced
			verdict    string
			firstSeen  *int64
			added, ls  int64
			threatName string
		)
		if err := rows.Scan(&alg, &r.Digest, &r.Source, &r.Size, &verdict, &threatName, &r.Category, &firstSeen, &added, &ls); err != nil {
			return nil, fmt.Errorf("lookup files: %w", err)
		}
		r.Algorithm = checksum.Algorithm(alg)
		r.Verdict = reputation.Verdict(verdict)
		r.ThreatName = threatName
		r.FirstSeen = unixTime(added)
		if firstSeen != nil {
			r.FirstSeen = unixTime(*firstSeen)
		}
		r.LastSeen = unixTime(ls)
		k := digestKey{r.Algorithm, string(r.Digest)}
		found[k] = append(found[k], r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lookup files: %w", err)
	}
	if len(found) == 0 {
		return results, nil
	}
	var inds []reputation.Sourced
	for i, f := range files {
		inds = inds[:0]
		for alg, d := range f {
			inds = append(inds, found[digestKey{alg, string(d)}]...)
		}
		if len(inds) > 0 {
			results[i] = reputation.Merge(inds)
		}
	}
	return results, nil
}

// algIndex is the position of a valid algorithm in checksum.All.
func algIndex(a checksum.Algorithm) int {
	for i, b := range checksum.All {
		if a == b {
			return i
		}
	}
	return -1
}

// Algorithms lists, in canonical order, the algorithms that at least one
// indicator is keyed by.
func (s *PostgresServer) Algorithms(ctx context.Context) ([]checksum.Algorithm, error) {
	rows, err := s.pool.Query(ctx, pgAlgorithmsSQL)
	if err != nil {
		return nil, fmt.Errorf("list digest algorithms: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list digest algorithms: %w", err)
	}
	var algs []checksum.Algorithm
	for _, n := range names {
		algs = append(algs, checksum.Algorithm(n))
	}
	return checksum.Canonical(algs), nil
}

// pgURLColumns are the columns scanURL reads, in its order.
const pgURLColumns = `hash, source, expression, verdict, threat_name, category, first_seen, added_at, last_seen`

// LookupURLs is Store.LookupURLs, in one statement.
func (s *PostgresServer) LookupURLs(ctx context.Context, hashes []URLHash) (map[URLHash][]reputation.URLSourced, error) {
	found := make(map[URLHash][]reputation.URLSourced)
	if len(hashes) == 0 {
		return found, nil
	}
	keys := make([][]byte, len(hashes))
	for i := range hashes {
		keys[i] = hashes[i][:]
	}
	if err := s.scanURLs(ctx, found, `SELECT `+pgURLColumns+` FROM url_indicators WHERE hash = ANY($1::bytea[])`, keys); err != nil {
		return nil, fmt.Errorf("lookup urls: %w", err)
	}
	return found, nil
}

// URLsByPrefix is ServerStore.URLsByPrefix: every prefix a range scan of
// the primary key, all in one statement.
func (s *PostgresServer) URLsByPrefix(ctx context.Context, prefixes []URLPrefix) (map[URLHash][]reputation.URLSourced, error) {
	found := make(map[URLHash][]reputation.URLSourced)
	if len(prefixes) == 0 {
		return found, nil
	}
	lo := make([][]byte, 0, len(prefixes))
	hi := make([][]byte, 0, len(prefixes))
	seen := make(map[URLPrefix]bool, len(prefixes))
	for _, p := range prefixes {
		if seen[p] {
			continue
		}
		seen[p] = true
		// The next prefix bounds the range; after ff ff ff ff, a 33-byte
		// value above every hash does.
		next := binary.BigEndian.Uint32(p[:]) + 1
		upper := binary.BigEndian.AppendUint32(nil, next)
		if next == 0 {
			upper = []byte(strings.Repeat("\xff", 33))
		}
		lo, hi = append(lo, p[:]), append(hi, upper)
	}
	err := s.scanURLs(ctx, found, `SELECT `+pgURLColumns+` FROM unnest($1::bytea[], $2::bytea[]) AS r(lo, hi)
JOIN url_indicators u ON u.hash >= r.lo AND u.hash < r.hi`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("lookup url prefixes: %w", err)
	}
	return found, nil
}

func (s *PostgresServer) scanURLs(ctx context.Context, found map[URLHash][]reputation.URLSourced, q string, args ...any) error {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			hash       []byte
			u          reputation.URLSourced
			verdict    string
			firstSeen  *int64
			added, ls  int64
			threatName string
		)
		if err := rows.Scan(&hash, &u.Source, &u.Expression, &verdict, &threatName, &u.Category, &firstSeen, &added, &ls); err != nil {
			return err
		}
		if len(hash) != len(u.Hash) {
			return fmt.Errorf("url indicator with a %d-byte hash", len(hash))
		}
		copy(u.Hash[:], hash)
		u.Verdict = reputation.Verdict(verdict)
		u.ThreatName = threatName
		u.FirstSeen = unixTime(added)
		if firstSeen != nil {
			u.FirstSeen = unixTime(*firstSeen)
		}
		u.LastSeen = unixTime(ls)
		found[u.Hash] = append(found[u.Hash], u)
	}
	return rows.Err()
}

// ObjectStats is ServerStore.ObjectStats, in one statement.
func (s *PostgresServer) ObjectStats(ctx context.Context, kind string, objects [][]byte) (map[string]ObjectStat, error) {
	out := make(map[string]ObjectStat)
	if len(objects) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT kind, object, participants, reports, first_day, last_day FROM object_stats
WHERE kind = $1 AND object = ANY($2::bytea[])`, kind, objects)
	if err != nil {
		return nil, fmt.Errorf("object stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		st, err := scanObjectStat(rows)
		if err != nil {
			return nil, fmt.Errorf("object stats: %w", err)
		}
		out[string(st.Object)] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("object stats: %w", err)
	}
	return out, nil
}
