package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/store"
)

func testPurge(t *testing.T, e *env) {
	db := unlocked(t, e.db)
	old := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) // 2025H1
	cur := time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC) // 2025H2
	store1(t, db, participant(0), old, fileSub(0, "a"), fileSub(1, "b"))
	store1(t, db, participant(0), cur, fileSub(2, "a"))
	// Within the grace nothing goes.
	res, err := db.Purge(ctx, store.PurgeOptions{Now: time.Date(2025, 7, 3, 0, 0, 0, 0, time.UTC), Grace: 7 * 24 * time.Hour})
	if err != nil || len(res.Purged) != 0 {
		t.Fatalf("purge within the grace: %+v, %v", res, err)
	}
	now := time.Date(2025, 7, 9, 0, 0, 0, 0, time.UTC)
	res, err = db.Purge(ctx, store.PurgeOptions{Now: now, Grace: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Purged) != 1 || res.Purged[0].HalfYear != "2025H1" || res.Purged[0].Records != 2 || res.Purged[0].ParticipantRows != 2 || !res.Checkpointed {
		t.Fatalf("purge: %+v", res)
	}
	// The key file went with it; the next half-year's stays.
	if labels, err := e.keys.Labels(); err != nil || !slices.Equal(labels, []string{"2025H2"}) {
		t.Errorf("data keys after the purge: %v, %v", labels, err)
	}
	counts, err := db.SealedCounts(ctx)
	if err != nil || len(counts) != 1 || counts[0].HalfYear != "2025H2" || counts[0].Records != 1 || !counts[0].HasKey {
		t.Errorf("SealedCounts after the purge: %+v, %v", counts, err)
	}
	purged, err := db.PurgedHalfYears(ctx)
	if err != nil || len(purged) != 1 || purged[0].HalfYear != "2025H1" || purged[0].Records != 2 || !purged[0].PurgedAt.Equal(now) {
		t.Errorf("PurgedHalfYears: %+v, %v", purged, err)
	}
	// A record of a purged half-year (a clock set back) is refused.
	if _, _, err := db.StoreSubmissions(ctx, participant(0), []store.Submission{fileSub(9, "c")}, old); !errors.Is(err, store.ErrPurged) {
		t.Errorf("storing into a purged half-year: %v", err)
	}
	if labels, _ := e.keys.Labels(); len(labels) != 1 {
		t.Errorf("a key was made for a purged half-year: %v", labels)
	}
	// Aggregates stay.
	agg, err := db.Aggregates(ctx, store.AggregateOptions{})
	if err != nil || agg.Kinds["file"] != 3 {
		t.Errorf("aggregates after the purge: %+v, %v", agg.Kinds, err)
	}
	if res, err := db.Purge(ctx, store.PurgeOptions{Now: now, Grace: 7 * 24 * time.Hour}); err != nil || len(res.Purged) != 0 {
		t.Errorf("a second purge: %+v, %v", res, err)
	}
}

// testPurgeRareObjects: the per-object aggregates of objects fewer than
// MinParticipants reported, last seen in a purged half-year, go with it,
// and so do its seat and participant rows; the counts of records stay.
func testPurgeRareObjects(t *testing.T, e *env) {
	db := unlocked(t, e.db)
	may := time.Date(2026, 5, 10, 9, 0, 0, 0, time.UTC)
	aug := time.Date(2026, 8, 10, 9, 0, 0, 0, time.UTC)
	// File 1: three participants in H1. File 2: one, in H1. File 3: one
	// in H1, another in H2. The link: one, in H1.
	store1(t, db, participant(0), may, fileSub(1, "f1"), fileSub(2, "f2"), fileSub(3, "f3"), urlSub(4, "example.com/a/"))
	store1(t, db, participant(1), may, fileSub(5, "f1"))
	store1(t, db, participant(2), may, fileSub(6, "f1"))
	store1(t, db, participant(1), aug, fileSub(7, "f3"))
	h1 := `SELECT (SELECT count(*) FROM license_seats WHERE half_year = '2026H1')
	+ (SELECT count(*) FROM seated_codes WHERE half_year = '2026H1')
	+ (SELECT count(*) FROM submission_participants WHERE half_year = '2026H1')`
	if e.b.Count(t, db, h1) == 0 {
		t.Fatal("no seat or participant rows to purge")
	}
	res, err := db.Purge(ctx, store.PurgeOptions{Now: aug, Grace: 7 * 24 * time.Hour, MinParticipants: 3})
	if err != nil || len(res.Purged) != 1 || res.Purged[0].Records != 6 || res.Purged[0].ObjectRows != 2 || !res.Checkpointed {
		t.Fatalf("purge: %+v, %v", res, err)
	}
	if n := e.b.Count(t, db, h1); n != 0 {
		t.Errorf("%d seat and participant rows of 2026H1 left", n)
	}
	f1, f2, f3 := sha256.Sum256([]byte("f1")), sha256.Sum256([]byte("f2")), sha256.Sum256([]byte("f3"))
	st, err := db.ObjectStats(ctx, store.ObjectFile, [][]byte{f1[:], f2[:], f3[:]})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st[string(f2[:])]; ok || st[string(f1[:])].Participants != 3 || st[string(f3[:])].Participants != 2 {
		t.Errorf("after the purge: %+v; want file 2 (one participant) gone, 1 and 3 (reported in 2026H2) kept", st)
	}
	agg, err := db.Aggregates(ctx, store.AggregateOptions{})
	if err != nil || agg.Objects[store.ObjectURL] != 0 || agg.Objects[store.ObjectFile] != 2 || agg.Kinds["file"] != 6 || agg.Kinds["url"] != 1 {
		t.Errorf("aggregates %+v, %v: per-object rows of single participants go, the counts of records stay", agg, err)
	}
	// At the next half-year's purge, file 3 (two participants) goes too.
	res, err = db.Purge(ctx, store.PurgeOptions{Now: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), MinParticipants: 3})
	if err != nil || len(res.Purged) != 1 || res.Purged[0].ObjectRows != 1 {
		t.Fatalf("second purge: %+v, %v", res, err)
	}
}

// testPurgeBesideReader: while a reader holds a snapshot taken before the
// purge, what it destroyed may linger in the database's files (SQLite's
// WAL, PostgreSQL's dead rows), and the purge says so (Checkpointed
// false); the next purge, once the reader left, completes it.
func testPurgeBesideReader(t *testing.T, e *env) {
	db := unlocked(t, e.db)
	store1(t, db, participant(0), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), fileSub(1, "x"))
	release := e.b.HoldSnapshot(t, db)
	now := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	res, err := db.Purge(ctx, store.PurgeOptions{Now: now})
	if err != nil || len(res.Purged) != 1 || res.Checkpointed {
		release()
		t.Fatalf("purge beside a reader: %+v, %v; want it purged but not checkpointed", res, err)
	}
	release()
	res, err = db.Purge(ctx, store.PurgeOptions{Now: now})
	if err != nil || len(res.Purged) != 0 || !res.Checkpointed {
		t.Fatalf("after the reader left: %+v, %v; want it completed", res, err)
	}
}

// testConcurrentPurge starts purges at the same moment, as replicas'
// schedules may: every record is destroyed, and counted as purged once.
func testConcurrentPurge(t *testing.T, db store.ServerDatabase) {
	unlocked(t, db)
	var subs []store.Submission
	for i := range 300 {
		subs = append(subs, fileSub(i, fmt.Sprint(i)))
	}
	store1(t, db, participant(0), time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), subs...)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var records int64
	for range 4 {
		wg.Go(func() {
			res, err := db.Purge(ctx, store.PurgeOptions{Now: now})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			for _, p := range res.Purged {
				records += p.Records
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if records != int64(len(subs)) {
		t.Errorf("concurrent purges destroyed %d records in all, want %d", records, len(subs))
	}
	if n := submissions(t, db); n != 0 {
		t.Errorf("%d records left", n)
	}
	purged, err := db.PurgedHalfYears(ctx)
	if err != nil || len(purged) != 1 || purged[0].Records != int64(len(subs)) {
		t.Errorf("PurgedHalfYears: %+v, %v", purged, err)
	}
}
