package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
)

// Aggregates reads the aggregate statistics. It needs no KEK.
func (s *Server) Aggregates(ctx context.Context, o AggregateOptions) (Aggregates, error) {
	a := Aggregates{Kinds: map[string]int64{}, Objects: map[string]int64{}}
	fail := func(err error) (Aggregates, error) { return Aggregates{}, fmt.Errorf("aggregates: %w", err) }
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // one snapshot
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()

	if err := eachRow(ctx, tx, `SELECT kind, sum(records) FROM daily_counts GROUP BY kind`, nil, func(r *sql.Rows) error {
		var k string
		var n int64
		err := r.Scan(&k, &n)
		a.Kinds[k] = n
		return err
	}); err != nil {
		return fail(err)
	}
	if err := eachRow(ctx, tx, `SELECT kind, count(*) FROM object_stats GROUP BY kind`, nil, func(r *sql.Rows) error {
		var k string
		var n int64
		err := r.Scan(&k, &n)
		a.Objects[k] = n
		return err
	}); err != nil {
		return fail(err)
	}
	q := `SELECT day, kind, records FROM daily_counts ORDER BY day DESC, kind`
	var args []any
	if o.Days > 0 {
		q = `SELECT day, kind, records FROM daily_counts
WHERE day IN (SELECT DISTINCT day FROM daily_counts ORDER BY day DESC LIMIT ?) ORDER BY day DESC, kind`
		args = []any{o.Days}
	}
	if err := eachRow(ctx, tx, q, args, func(r *sql.Rows) error {
		var d DailyCount
		err := r.Scan(&d.Day, &d.Kind, &d.Records)
		a.Daily = append(a.Daily, d)
		return err
	}); err != nil {
		return fail(err)
	}

	scan := map[string]*ScanTimeStat{}
	if err := eachRow(ctx, tx, `SELECT size_class, records, total_ms FROM scan_time_classes`, nil, func(r *sql.Rows) error {
		st := &ScanTimeStat{Buckets: map[int]int64{}}
		var total float64
		err := r.Scan(&st.Class, &st.Records, &total)
		if st.Records > 0 {
			st.MeanMS = total / float64(st.Records)
		}
		if math.IsInf(st.MeanMS, 0) || math.IsNaN(st.MeanMS) {
			st.MeanMS = -1 // poisoned before times were bounded: estimated below
		}
		scan[st.Class] = st
		return err
	}); err != nil {
		return fail(err)
	}
	if err := eachRow(ctx, tx, `SELECT size_class, bucket, records FROM scan_time_buckets`, nil, func(r *sql.Rows) error {
		var c string
		var b int
		var n int64
		if err := r.Scan(&c, &b, &n); err != nil {
			return err
		}
		if st, ok := scan[c]; ok {
			st.Buckets[b] = n
		}
		return nil
	}); err != nil {
		return fail(err)
	}
	for _, c := range append(append([]string{}, SizeClasses...), URLClass) {
		st, ok := scan[c]
		if !ok {
			continue
		}
		st.P50MS, st.P90MS, st.P99MS = percentile(st.Buckets, 0.50), percentile(st.Buckets, 0.90), percentile(st.Buckets, 0.99)
		if st.MeanMS < 0 {
			// A sum made infinite by a time of 1e308, stored before
			// MaxScanMS: the histogram, whose buckets are bounded,
			// still gives a finite mean, and JSON cannot carry +Inf.
			st.MeanMS = histogramMean(st.Buckets)
		}
		a.ScanTime = append(a.ScanTime, *st)
	}

	if err := eachRow(ctx, tx, `SELECT os, arch, os_version, ksn_version, cpus, memory, records FROM system_counts
ORDER BY records DESC, os, arch, os_version, ksn_version, cpus, memory`, nil, func(r *sql.Rows) error {
		var c SystemCount
		err := r.Scan(&c.OS, &c.Arch, &c.OSVersion, &c.KSNVersion, &c.CPUs, &c.Memory, &c.Records)
		a.Systems = append(a.Systems, c)
		return err
	}); err != nil {
		return fail(err)
	}
	if o.Top > 0 {
		if err := eachRow(ctx, tx, `SELECT kind, object, participants, reports, first_day, last_day FROM object_stats
ORDER BY participants DESC, reports DESC, kind, object LIMIT ?`, []any{o.Top}, func(r *sql.Rows) error {
			st, err := scanObjectStat(r)
			a.TopObjects = append(a.TopObjects, st)
			return err
		}); err != nil {
			return fail(err)
		}
	}
	return a, nil
}

func scanObjectStat(r interface{ Scan(...any) error }) (ObjectStat, error) {
	var st ObjectStat
	var first, last int64
	if err := r.Scan(&st.Kind, &st.Object, &st.Participants, &st.Reports, &first, &last); err != nil {
		return ObjectStat{}, err
	}
	st.FirstSeen, st.LastSeen = unixTime(first), unixTime(last)
	return st, nil
}

// histogramMean estimates the mean of a histogram from its buckets'
// values.
func histogramMean(buckets map[int]int64) float64 {
	var n int64
	var sum float64
	for b, c := range buckets {
		n += c
		sum += float64(c) * bucketValue(b)
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// percentile estimates the p-quantile of a histogram: the value of the
// bucket holding the ceil(p·n)-th smallest time.
func percentile(buckets map[int]int64, p float64) float64 {
	var n int64
	for _, c := range buckets {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(p * float64(n)))
	var seen int64
	for b := 0; b <= maxBucket; b++ {
		seen += buckets[b]
		if seen >= rank {
			return bucketValue(b)
		}
	}
	return bucketValue(maxBucket)
}

// objectStatsSQL reads the aggregates of n objects of one kind.
func objectStatsSQL(n int) string {
	return `SELECT kind, object, participants, reports, first_day, last_day FROM object_stats
WHERE kind = ? AND object IN (` + placeholders(n) + `)`
}

// objectStats returns the aggregates of the given objects of one kind,
// keyed by the object's bytes as a string; objects never reported are
// absent. Lookups call it for prevalence (through ObjectStats and its
// filter), so it runs the prepared statements of lookupClasses, like the
// lookups themselves.
func (s *Server) objectStats(ctx context.Context, kind string, objects [][]byte) (map[string]ObjectStat, error) {
	out := make(map[string]ObjectStat)
	var args []any
	empty := []byte{}
	for len(objects) > 0 {
		class := lookupClass(len(objects))
		size := lookupClasses[class]
		n := min(len(objects), size)
		args = append(args[:0], kind)
		for i := range size {
			if i < n {
				args = append(args, objects[i])
			} else {
				args = append(args, empty)
			}
		}
		objects = objects[n:]
		prepared, err := s.stats[class].get(s.db)
		if err != nil {
			return nil, fmt.Errorf("object stats: %w", err)
		}
		err = eachRow(ctx, preparedQuerier{prepared}, "", args, func(r *sql.Rows) error {
			st, err := scanObjectStat(r)
			out[string(st.Object)] = st
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("object stats: %w", err)
		}
	}
	return out, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// preparedQuerier makes a prepared statement a querier (its query text
// is ignored).
type preparedQuerier struct{ *sql.Stmt }

// QueryContext runs the prepared statement.
func (p preparedQuerier) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return p.Stmt.QueryContext(ctx, args...)
}

// eachRow runs a query and calls fn for every row.
func eachRow(ctx context.Context, q querier, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
