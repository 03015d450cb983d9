package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// groupOf checks batches into jobs of one group.
func groupOf(t *testing.T, batches ...[]Submission) []*groupJob {
	t.Helper()
	var jobs []*groupJob
	for i, b := range batches {
		part := []string{partA, partB, partC}[i%3]
		j, err := newGroupJob(context.Background(), sender(part), b, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// TestGroupCommit: batches written in one transaction are answered each
// on its own. A record already written earlier in the group is a
// duplicate; a batch reusing an id, of a purged half-year or whose
// request ended writes nothing and does not keep the others from being
// written; a participant reporting an object in two batches of a group
// counts once.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	s := openSealed(t)
	store(t, s, partA, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), fileSub(recID(90), 90))
	if _, err := s.Purge(ctx, PurgeOptions{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	jobs := groupOf(t,
		[]Submission{fileSub(recID(1), 1), fileSub(recID(2), 2)}, // A
		[]Submission{fileSub(recID(2), 2), fileSub(recID(3), 1)}, // B: 2 again, same body; file 1 again
		[]Submission{fileSub(recID(4), 4), fileSub(recID(1), 5)}, // C: id 1 with another file
		[]Submission{fileSub(recID(5), 1), fileSub(recID(6), 6)}, // A again: file 1 a second time
	)
	purged, err := newGroupJob(ctx, sender(partB), []Submission{fileSub(recID(7), 7)}, time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	ended, cancel := context.WithCancel(ctx)
	cancel()
	gone, err := newGroupJob(ended, sender(partC), []Submission{fileSub(recID(8), 8)}, jobs[0].at)
	if err != nil {
		t.Fatal(err)
	}
	jobs = append(jobs, purged, gone)
	s.storeGroup(ctx, jobs)

	want := []struct {
		accepted, duplicates int
		err                  error
	}{{2, 0, nil}, {1, 1, nil}, {0, 0, ErrIDReused}, {2, 0, nil}, {0, 0, ErrPurged}, {0, 0, context.Canceled}}
	for i, w := range want {
		j := jobs[i]
		if j.accepted != w.accepted || j.duplicates != w.duplicates || !errors.Is(j.err, w.err) || (w.err == nil) != (j.err == nil) {
			t.Errorf("batch %d: %d accepted, %d duplicates, %v; want %d, %d, %v", i, j.accepted, j.duplicates, j.err, w.accepted, w.duplicates, w.err)
		}
	}
	var ie *IDReusedError
	if errors.As(jobs[2].err, &ie) && ie.Index != 1 {
		t.Errorf("the reused id is named as record %d, want 1", ie.Index)
	}
	if n := countRows(t, s, "sealed_submissions"); n != 5 {
		t.Errorf("%d records stored, want 5 (ids 1, 2, 3, 5, 6)", n)
	}
	st, err := s.ObjectStats(ctx, ObjectFile, [][]byte{digestOf(1), digestOf(4)})
	if err != nil {
		t.Fatal(err)
	}
	if f := st[string(digestOf(1))]; f.Reports != 3 || f.Participants != 2 {
		t.Errorf("file 1: %+v; want 3 reports by 2 participants (A twice, B)", f)
	}
	if _, ok := st[string(digestOf(4))]; ok {
		t.Error("the refused batch counted its file")
	}
}

// TestGroupCommitAllOrNothing: a failure while the group is written (here
// a trigger refusing one record) fails every batch of the group, and
// nothing of any is stored.
func TestGroupCommitAllOrNothing(t *testing.T) {
	s := openSealed(t)
	if _, err := s.DB().Exec(`CREATE TRIGGER refuse BEFORE INSERT ON sealed_submissions
WHEN NEW.id = X'` + recID(3) + `' BEGIN SELECT RAISE(ABORT, 'injected'); END`); err != nil {
		t.Fatal(err)
	}
	jobs := groupOf(t, []Submission{fileSub(recID(1), 1)}, []Submission{fileSub(recID(2), 2), fileSub(recID(3), 3)})
	s.storeGroup(context.Background(), jobs)
	for i, j := range jobs {
		if j.err == nil || j.accepted != 0 {
			t.Errorf("batch %d: %d accepted, %v; want it failed", i, j.accepted, j.err)
		}
	}
	if n := countRows(t, s, "sealed_submissions") + countRows(t, s, "object_stats") + countRows(t, s, "submission_participants"); n != 0 {
		t.Errorf("%d rows written by a failed group", n)
	}
}
