package store

import (
	"context"
	"database/sql"
	"fmt"
)

// writeJudgements adds the batch's spam judgements (addSpam). It runs
// after the object_stats rows they refer to are written.
func (a *batchAggregates) writeJudgements(ctx context.Context, tx *sql.Tx) error {
	if len(a.judged) == 0 {
		return nil
	}
	args := make([]any, 0, 4*len(a.judged))
	for _, ref := range a.order { // a.order: one statement order for equal batches
		if d, ok := a.judged[ref]; ok {
			args = append(args, ref.kind, ref.key[:], d.spam, d.ham)
		}
	}
	if _, err := insertRows(ctx, tx, `INSERT INTO spam_judgements (kind, object, spam, ham) VALUES `, 4, args, `
ON CONFLICT (kind, object) DO UPDATE SET spam = spam + excluded.spam, ham = ham + excluded.ham`, nil); err != nil {
		return explainWrite(err)
	}
	return nil
}

// SpamStats reads the spam aggregates, in one snapshot. It needs no KEK.
func (s *Server) SpamStats(ctx context.Context, o SpamOptions) (SpamStats, error) {
	out := SpamStats{Bodies: []SpamStat{}, Nets: []SpamStat{}}
	if o.Top <= 0 {
		return out, nil
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return out, fmt.Errorf("spam stats: %w", err)
	}
	defer tx.Rollback()
	for _, k := range []struct {
		kind string
		list *[]SpamStat
	}{{ObjectSpamBody, &out.Bodies}, {ObjectSpamNet, &out.Nets}} {
		if err := eachRow(ctx, tx, spamStatsSQL, []any{k.kind, o.MinParticipants, o.Top}, func(r *sql.Rows) error {
			st, err := scanSpamStat(k.kind, r)
			*k.list = append(*k.list, st)
			return err
		}); err != nil {
			return out, fmt.Errorf("spam stats: %w", err)
		}
	}
	return out, nil
}

// URLPrevalence is ServerStore.URLPrevalence: each prefix one range scan of
// object_stats' primary key, in one snapshot.
func (s *Server) URLPrevalence(ctx context.Context, prefixes []URLPrefix, minParticipants int) (map[URLHash]int64, error) {
	out := make(map[URLHash]int64)
	if len(prefixes) == 0 {
		return out, nil
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("url prevalence: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `SELECT object, participants FROM object_stats
WHERE kind = ? AND object >= ? AND object <= ? AND participants >= ?
ORDER BY participants DESC, object LIMIT ?`)
	if err != nil {
		return nil, fmt.Errorf("url prevalence: %w", err)
	}
	defer stmt.Close()
	seen := make(map[URLPrefix]bool, len(prefixes))
	for _, p := range prefixes {
		if seen[p] {
			continue
		}
		seen[p] = true
		lo, hi := prefixRange(p)
		err := eachRow(ctx, preparedQuerier{stmt}, "", []any{ObjectURL, lo, hi, max(minParticipants, 1), MaxPrevalencePerPrefix}, func(r *sql.Rows) error {
			var object []byte
			var n int64
			if err := r.Scan(&object, &n); err != nil {
				return err
			}
			addPrevalence(out, object, n)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("url prevalence: %w", err)
		}
	}
	return out, nil
}
