package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// pgWriteJudgements is batchAggregates.writeJudgements on PostgreSQL: one
// statement, rows in key order (writes in one order cannot deadlock).
func pgWriteJudgements(ctx context.Context, tx pgx.Tx, a *batchAggregates) error {
	if len(a.judged) == 0 {
		return nil
	}
	refs := make([]objectRef, 0, len(a.judged))
	for ref := range a.judged {
		refs = append(refs, ref)
	}
	slices.SortFunc(refs, compareRefs)
	kinds := make([]string, len(refs))
	objects := make([][]byte, len(refs))
	spam := make([]int64, len(refs))
	ham := make([]int64, len(refs))
	for i, ref := range refs {
		kinds[i], objects[i], spam[i], ham[i] = ref.kind, ref.key[:], a.judged[ref].spam, a.judged[ref].ham
	}
	_, err := tx.Exec(ctx, `INSERT INTO spam_judgements (kind, object, spam, ham)
SELECT * FROM unnest($1::text[], $2::bytea[], $3::int8[], $4::int8[])
ON CONFLICT (kind, object) DO UPDATE SET spam = spam_judgements.spam + excluded.spam, ham = spam_judgements.ham + excluded.ham`,
		kinds, objects, spam, ham)
	return err
}

// SpamStats is Server.SpamStats, read in one snapshot.
func (s *PostgresServer) SpamStats(ctx context.Context, o SpamOptions) (SpamStats, error) {
	out := SpamStats{Bodies: []SpamStat{}, Nets: []SpamStat{}}
	if o.Top <= 0 {
		return out, nil
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		for _, k := range []struct {
			kind string
			list *[]SpamStat
		}{{ObjectSpamBody, &out.Bodies}, {ObjectSpamNet, &out.Nets}} {
			rows, err := tx.Query(ctx, pgPlaceholders(spamStatsSQL), k.kind, o.MinParticipants, o.Top)
			if err != nil {
				return err
			}
			for rows.Next() {
				st, err := scanSpamStat(k.kind, rows)
				if err != nil {
					rows.Close()
					return err
				}
				*k.list = append(*k.list, st)
			}
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return SpamStats{}, fmt.Errorf("spam stats: %w", err)
	}
	return out, nil
}

// URLPrevalence is Server.URLPrevalence: one statement for every prefix,
// each a bounded range scan of object_stats' primary key.
func (s *PostgresServer) URLPrevalence(ctx context.Context, prefixes []URLPrefix, minParticipants int) (map[URLHash]int64, error) {
	out := make(map[URLHash]int64)
	if len(prefixes) == 0 {
		return out, nil
	}
	seen := make(map[URLPrefix]bool, len(prefixes))
	var los, his [][]byte
	for _, p := range prefixes {
		if !seen[p] {
			seen[p] = true
			lo, hi := prefixRange(p)
			los, his = append(los, lo), append(his, hi)
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT o.object, o.participants
FROM unnest($1::bytea[], $2::bytea[]) AS r(lo, hi)
CROSS JOIN LATERAL (SELECT object, participants FROM object_stats
    WHERE kind = $3 AND object >= r.lo AND object <= r.hi AND participants >= $4
    ORDER BY participants DESC, object LIMIT $5) o`, los, his, ObjectURL, max(minParticipants, 1), MaxPrevalencePerPrefix)
	if err != nil {
		return nil, fmt.Errorf("url prevalence: %w", err)
	}
	var object []byte
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&object, &n}, func() error {
		addPrevalence(out, object, n)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("url prevalence: %w", err)
	}
	return out, nil
}

// pgPlaceholders numbers the ? placeholders of a query written for SQLite.
func pgPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
