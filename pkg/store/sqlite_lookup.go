package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// lookupChunk is how many digests one statement of the link lookups and
// the network cache carries; those are padded to it (see lookupClasses
// for the file lookups, which are not).
const lookupChunk = 500

// lookupClasses are the digest counts of the prepared file-lookup
// statements. A chunk of n digests of one algorithm runs the smallest that
// holds it, padded with empty digests (which match nothing): a handful of
// statements, each prepared once per connection, serve every batch size,
// and a lookup of one file carries one parameter, not hundreds.
var lookupClasses = [...]int{1, 4, 16, 64, 256, 1000}

// lookupSQL is the file lookup of n digests of one algorithm.
func lookupSQL(n int) string {
	return `SELECT digest, source, size, verdict, threat_name, category, first_seen, added_at, last_seen
FROM file_indicators
WHERE algorithm = ? AND digest IN (` + placeholders(n) + `)`
}

// lookupClass returns the index in lookupClasses of the smallest
// statement that holds n digests (n ≥ 1), or the largest.
func lookupClass(n int) int {
	for i, c := range lookupClasses {
		if n <= c {
			return i
		}
	}
	return len(lookupClasses) - 1
}

// algorithmsSQL asks, for each known algorithm, whether one indicator is
// keyed by it: one search of the primary key per algorithm, however large
// the table, and always exact (nothing to maintain on import or delete).
var algorithmsSQL = func() string {
	var parts []string
	for _, a := range checksum.All {
		// The names are compile-time constants of package checksum.
		parts = append(parts, fmt.Sprintf(
			"SELECT '%s' WHERE EXISTS (SELECT 1 FROM file_indicators WHERE algorithm = '%s')", a, a))
	}
	return strings.Join(parts, " UNION ALL ")
}()

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

type digestKey struct {
	alg    checksum.Algorithm
	digest string
}

// LookupFiles returns one result per query, in query order, merging with
// reputation.Merge every indicator that matches any of a query's digests.
// A digest whose length does not fit its algorithm matches nothing; an
// unknown algorithm is an error. All lookups of one call see the same
// snapshot of the database.
func (s *sqliteDB) LookupFiles(ctx context.Context, files []FileDigests) ([]reputation.Result, error) {
	results := make([]reputation.Result, len(files))
	for i := range results {
		results[i].Verdict = reputation.Unknown
	}

	// The distinct digests to look up, per algorithm.
	byAlg := make(map[checksum.Algorithm][][]byte)
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
			byAlg[alg] = append(byAlg[alg], d)
		}
	}
	if len(seen) == 0 {
		return results, nil
	}

	found, err := s.lookupDigests(ctx, byAlg)
	if err != nil {
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

// lookupDigests returns the indicators of every digest in byAlg that the
// database knows.
func (s *sqliteDB) lookupDigests(ctx context.Context, byAlg map[checksum.Algorithm][][]byte) (map[digestKey][]reputation.Sourced, error) {
	// One read transaction, so that an import committing meanwhile is seen
	// by all of the chunks or by none.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	// Digests of an algorithm no indicator is keyed by cannot match: a
	// check hashes BLAKE3 for its output while the lists hold SHA-256,
	// and asking about them would double the cost of every lookup.
	algs, err := s.algs.get(s.db)
	if err != nil {
		return nil, err
	}
	present, err := presentAlgorithms(ctx, tx.StmtContext(ctx, algs))
	if err != nil {
		return nil, err
	}
	found := make(map[digestKey][]reputation.Sourced)
	var args []any
	empty := []byte{}
	for _, alg := range checksum.All {
		if !present[alg] {
			continue
		}
		digests := byAlg[alg]
		// In key order, SQLite builds the IN list's ephemeral index by
		// appending, and the probes walk the primary key left to right.
		slices.SortFunc(digests, bytes.Compare)
		for len(digests) > 0 {
			class := lookupClass(len(digests))
			size := lookupClasses[class]
			n := min(len(digests), size)
			args = append(args[:0], string(alg))
			for i := range size {
				if i < n {
					args = append(args, digests[i])
				} else {
					args = append(args, empty)
				}
			}
			digests = digests[n:]
			prepared, err := s.lookup[class].get(s.db)
			if err != nil {
				return nil, err
			}
			stmt := tx.StmtContext(ctx, prepared)
			err = scanIndicators(ctx, stmt, args, alg, found)
			stmt.Close()
			if err != nil {
				return nil, err
			}
		}
	}
	return found, nil
}

func scanIndicators(ctx context.Context, stmt *sql.Stmt, args []any, alg checksum.Algorithm, found map[digestKey][]reputation.Sourced) error {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			digest               []byte
			r                    reputation.Sourced
			verdict              string
			firstSeen            sql.NullInt64
			addedAt, lastSeen    int64
			threatName, category string
			source               string
			size                 int64
		)
		if err := rows.Scan(&digest, &source, &size, &verdict, &threatName, &category, &firstSeen, &addedAt, &lastSeen); err != nil {
			return err
		}
		r.Source = source
		r.Algorithm = alg
		r.Digest = digest
		r.Size = size
		r.Verdict = reputation.Verdict(verdict)
		r.ThreatName = threatName
		r.Category = category
		// First seen as the source states it, else when this database
		// first recorded the indicator.
		if firstSeen.Valid {
			r.FirstSeen = unixTime(firstSeen.Int64)
		} else {
			r.FirstSeen = unixTime(addedAt)
		}
		r.LastSeen = unixTime(lastSeen)
		k := digestKey{alg, string(digest)}
		found[k] = append(found[k], r)
	}
	return rows.Err()
}

// unixTime converts stored Unix seconds to a UTC time; 0 is the zero time.
func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// Algorithms lists, in canonical order, the algorithms that at least one
// indicator is keyed by.
func (s *sqliteDB) Algorithms(ctx context.Context) ([]checksum.Algorithm, error) {
	stmt, err := s.algs.get(s.db)
	if err != nil {
		return nil, fmt.Errorf("list digest algorithms: %w", err)
	}
	present, err := presentAlgorithms(ctx, stmt)
	if err != nil {
		return nil, fmt.Errorf("list digest algorithms: %w", err)
	}
	var algs []checksum.Algorithm
	for a := range present {
		algs = append(algs, a)
	}
	return checksum.Canonical(algs), nil
}

// presentAlgorithms runs algorithmsSQL: the algorithms at least one
// indicator is keyed by.
func presentAlgorithms(ctx context.Context, stmt *sql.Stmt) (map[checksum.Algorithm]bool, error) {
	rows, err := stmt.QueryContext(ctx)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	present := make(map[checksum.Algorithm]bool, len(checksum.All))
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		present[checksum.Algorithm(a)] = true
	}
	return present, rows.Err()
}
