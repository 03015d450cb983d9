package store

import (
	"context"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
)

// Aggregates is Server.Aggregates, read in one snapshot.
func (s *PostgresServer) Aggregates(ctx context.Context, o AggregateOptions) (Aggregates, error) {
	a := Aggregates{Kinds: map[string]int64{}, Objects: map[string]int64{}}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		each := func(q string, args []any, dest []any, fn func() error) error {
			rows, err := tx.Query(ctx, q, args...)
			if err != nil {
				return err
			}
			_, err = pgx.ForEachRow(rows, dest, fn)
			return err
		}
		var k string
		var n int64
		if err := each(`SELECT kind, sum(records)::bigint FROM daily_counts GROUP BY kind`, nil, []any{&k, &n},
			func() error { a.Kinds[k] = n; return nil }); err != nil {
			return err
		}
		if err := each(`SELECT kind, count(*) FROM object_stats GROUP BY kind`, nil, []any{&k, &n},
			func() error { a.Objects[k] = n; return nil }); err != nil {
			return err
		}
		q := `SELECT day, kind, records FROM daily_counts ORDER BY day DESC, kind`
		var args []any
		if o.Days > 0 {
			q = `SELECT day, kind, records FROM daily_counts
WHERE day IN (SELECT DISTINCT day FROM daily_counts ORDER BY day DESC LIMIT $1) ORDER BY day DESC, kind`
			args = []any{o.Days}
		}
		var d DailyCount
		if err := each(q, args, []any{&d.Day, &d.Kind, &d.Records}, func() error { a.Daily = append(a.Daily, d); return nil }); err != nil {
			return err
		}

		scan := map[string]*ScanTimeStat{}
		var class string
		var records int64
		var total float64
		if err := each(`SELECT size_class, records, total_ms FROM scan_time_classes`, nil, []any{&class, &records, &total}, func() error {
			st := &ScanTimeStat{Class: class, Records: records, Buckets: map[int]int64{}}
			if records > 0 {
				st.MeanMS = total / float64(records)
			}
			if math.IsInf(st.MeanMS, 0) || math.IsNaN(st.MeanMS) {
				st.MeanMS = -1 // a sum made infinite by hand: estimated below, as on SQLite
			}
			scan[class] = st
			return nil
		}); err != nil {
			return err
		}
		var bucket int32
		if err := each(`SELECT size_class, bucket, records FROM scan_time_buckets`, nil, []any{&class, &bucket, &records}, func() error {
			if st, ok := scan[class]; ok {
				st.Buckets[int(bucket)] = records
			}
			return nil
		}); err != nil {
			return err
		}
		for _, c := range append(append([]string{}, SizeClasses...), URLClass) {
			if st, ok := scan[c]; ok {
				st.P50MS, st.P90MS, st.P99MS = percentile(st.Buckets, 0.50), percentile(st.Buckets, 0.90), percentile(st.Buckets, 0.99)
				if st.MeanMS < 0 {
					st.MeanMS = histogramMean(st.Buckets)
				}
				a.ScanTime = append(a.ScanTime, *st)
			}
		}

		var c SystemCount
		if err := each(`SELECT os, arch, os_version, ksn_version, cpus, memory, records FROM system_counts
ORDER BY records DESC, os, arch, os_version, ksn_version, cpus, memory`, nil,
			[]any{&c.OS, &c.Arch, &c.OSVersion, &c.KSNVersion, &c.CPUs, &c.Memory, &c.Records},
			func() error { a.Systems = append(a.Systems, c); return nil }); err != nil {
			return err
		}
		if o.Top > 0 {
			rows, err := tx.Query(ctx, `SELECT kind, object, participants, reports, first_day, last_day FROM object_stats
ORDER BY participants DESC, reports DESC, kind, object LIMIT $1`, o.Top)
			if err != nil {
				return err
			}
			top, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ObjectStat, error) { return scanObjectStat(r) })
			if err != nil {
				return err
			}
			a.TopObjects = top
		}
		return nil
	})
	if err != nil {
		return Aggregates{}, fmt.Errorf("aggregates: %w", err)
	}
	return a, nil
}
