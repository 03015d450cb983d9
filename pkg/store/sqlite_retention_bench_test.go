package store

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

// BenchmarkStoreSubmissions measures ingest per record, in batches of
// api.MaxBatch file records: sealed with the aggregates (what the server
// does), against a plaintext insert of the same rows as the server did
// before sealing (the baseline).
func BenchmarkStoreSubmissions(b *testing.B) {
	ctx := context.Background()
	batch := func(n int, newObjects bool) []Submission {
		subs := make([]Submission, api.MaxBatch)
		for i := range subs {
			obj := i
			if newObjects {
				obj = n*api.MaxBatch + i
			}
			subs[i] = fileSub(fmt.Sprintf("%016x%016x", n, i), obj)
		}
		return subs
	}
	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name       string
		newObjects bool
	}{{"sealed/new-objects", true}, {"sealed/same-objects", false}} {
		b.Run(c.name, func(b *testing.B) {
			s := openSealed(b)
			n := 0
			for b.Loop() {
				b.StopTimer()
				subs := batch(n, c.newObjects)
				n++
				b.StartTimer()
				if acc, _, err := s.StoreSubmissions(ctx, sender(partA), subs, at); err != nil || acc != len(subs) {
					b.Fatal(acc, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*api.MaxBatch), "ns/record")
		})
	}
	b.Run("plaintext-baseline", func(b *testing.B) {
		s := openSealed(b)
		if _, err := s.DB().Exec(`CREATE TABLE plain (id BLOB NOT NULL PRIMARY KEY, kind TEXT NOT NULL,
			created_at BIGINT NOT NULL, received_at BIGINT NOT NULL, body BLOB NOT NULL) WITHOUT ROWID`); err != nil {
			b.Fatal(err)
		}
		n := 0
		for b.Loop() {
			b.StopTimer()
			subs := batch(n, true)
			n++
			b.StartTimer()
			tx, err := s.DB().BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			st, err := tx.PrepareContext(ctx, `INSERT INTO plain (id, kind, created_at, received_at, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
			if err != nil {
				b.Fatal(err)
			}
			for _, sub := range subs {
				id, _ := ParseRecordID(sub.Record.ID)
				if _, err := st.ExecContext(ctx, id, sub.Record.Kind, sub.Record.CreatedAt.Unix(), at.Unix(), []byte(sub.Record.Body)); err != nil {
					b.Fatal(err)
				}
			}
			st.Close()
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*api.MaxBatch), "ns/record")
	})
}

// BenchmarkStoreGroup measures ingest per record through group commits of
// 16 batches of api.MaxBatch new file records from 16 participants, into
// a database that holds 100,000 records before the timer starts: what
// QueueWrites's writer does under many submitters (the batches sealed
// beforehand, as their submitters do).
func BenchmarkStoreGroup(b *testing.B) {
	ctx := context.Background()
	prefill := 100_000
	if v, err := strconv.Atoi(os.Getenv("KSN_BENCH_PREFILL")); err == nil {
		prefill = v
	}
	s := openSealed(b)
	stop, err := s.startGroupWriter(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	group := func() []*groupJob {
		jobs := make([]*groupJob, 16)
		for g := range jobs {
			subs := make([]Submission, api.MaxBatch)
			for i := range subs {
				subs[i] = fileSub(fmt.Sprintf("%016x%016x", n, i), n*api.MaxBatch+i)
			}
			n++
			j, err := newGroupJob(ctx, Sender{License: int64(g + 1), Seats: 1, Participant: fmt.Sprintf("%032x", g+1)}, subs, at)
			if err != nil {
				b.Fatal(err)
			}
			s.prepareGroupJob(j)
			jobs[g] = j
		}
		return jobs
	}
	for range prefill / (16 * api.MaxBatch) {
		s.storeGroup(ctx, group())
	}
	records := 0
	for b.Loop() {
		b.StopTimer()
		jobs := group()
		b.StartTimer()
		s.storeGroup(ctx, jobs)
		for _, j := range jobs {
			if j.err != nil {
				b.Fatal(j.err)
			}
			records += j.accepted
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
}
