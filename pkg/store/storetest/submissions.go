package storetest

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/store"
)

func testSubmissions(t *testing.T, db store.ServerDatabase) {
	unlocked(t, db)
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	if a, d := store1(t, db, participant(0), at, fileSub(0, "a"), fileSub(1, "b"), fileSub(0, "a")); a != 2 || d != 1 {
		t.Errorf("first batch: %d accepted, %d duplicates; want 2, 1", a, d)
	}
	// A batch sent again after a failure stores nothing twice.
	if a, d := store1(t, db, participant(0), at, fileSub(0, "a"), fileSub(1, "b"), fileSub(2, "c")); a != 1 || d != 2 {
		t.Errorf("resent batch: %d accepted, %d duplicates; want 1, 2", a, d)
	}
	if n := submissions(t, db); n != 3 {
		t.Errorf("%d records stored, want 3", n)
	}
	if a, d := store1(t, db, participant(0), at); a != 0 || d != 0 {
		t.Errorf("empty batch: %d, %d", a, d)
	}
	bad := fileSub(9, "z")
	bad.Record.ID = "ABC"
	if _, _, err := db.StoreSubmissions(ctx, participant(0), []store.Submission{fileSub(8, "y"), bad}, at); err == nil {
		t.Error("a malformed id was stored")
	}
	if _, _, err := db.StoreSubmissions(ctx, store.Sender{License: 1, Seats: 1, Participant: "nope"}, []store.Submission{fileSub(8, "y")}, at); err == nil {
		t.Error("a malformed participant was accepted")
	}
	if n := submissions(t, db); n != 3 {
		t.Errorf("a refused batch stored something: %d records", n)
	}
	agg, err := db.Aggregates(ctx, store.AggregateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if agg.Kinds["file"] != 3 || agg.Objects["file"] != 3 {
		t.Errorf("aggregates count duplicates: %+v", agg)
	}
}

// testConcurrentDuplicates sends one batch from several goroutines at
// once, as a client retrying through several replicas would: it is stored
// once, and counted once.
func testConcurrentDuplicates(t *testing.T, db store.ServerDatabase) {
	unlocked(t, db)
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	var batch []store.Submission
	for i := range 200 {
		batch = append(batch, fileSub(i, fmt.Sprint("file", i%50)))
	}
	const senders = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	var accepted, dups int
	errs := make(chan error, senders)
	for range senders {
		wg.Go(func() {
			a, d, err := db.StoreSubmissions(ctx, participant(1), batch, at)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			accepted, dups = accepted+a, dups+d
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if accepted != len(batch) || dups != (senders-1)*len(batch) {
		t.Errorf("%d accepted and %d duplicates in all; want %d and %d", accepted, dups, len(batch), (senders-1)*len(batch))
	}
	if n := submissions(t, db); n != len(batch) {
		t.Errorf("%d records stored, want %d", n, len(batch))
	}
	agg, err := db.Aggregates(ctx, store.AggregateOptions{Top: 1})
	if err != nil {
		t.Fatal(err)
	}
	if agg.Kinds["file"] != int64(len(batch)) || agg.Objects["file"] != 50 ||
		len(agg.TopObjects) != 1 || agg.TopObjects[0].Reports != 4 || agg.TopObjects[0].Participants != 1 {
		t.Errorf("aggregates after concurrent duplicates: kinds %v objects %v top %+v", agg.Kinds, agg.Objects, agg.TopObjects)
	}
}

func testAggregates(t *testing.T, db store.ServerDatabase) {
	unlocked(t, db)
	day1 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	store1(t, db, participant(0), day1, fileSub(0, "a"), fileSub(1, "b"), systemSub(2), urlSub(3, "evil.example/x"))
	store1(t, db, participant(1), day2, fileSub(4, "a"), systemSub(5))
	agg, err := db.Aggregates(ctx, store.AggregateOptions{Days: 1, Top: 2})
	if err != nil {
		t.Fatal(err)
	}
	if agg.Kinds["file"] != 3 || agg.Kinds["system"] != 2 || agg.Kinds["url"] != 1 || agg.Objects["file"] != 2 || agg.Objects["url"] != 1 {
		t.Errorf("kinds %v objects %v", agg.Kinds, agg.Objects)
	}
	if len(agg.Daily) != 2 || agg.Daily[0].Day != "2026-03-05" || agg.Daily[0].Kind != "file" || agg.Daily[0].Records != 1 {
		t.Errorf("daily (last day): %+v", agg.Daily)
	}
	all, err := db.Aggregates(ctx, store.AggregateOptions{})
	if err != nil || len(all.Daily) != 5 || all.TopObjects != nil {
		t.Errorf("daily (all): %+v, top %+v, %v", all.Daily, all.TopObjects, err)
	}
	if len(agg.ScanTime) != 2 || agg.ScanTime[0].Class != store.SizeClasses[0] || agg.ScanTime[0].Records != 3 ||
		agg.ScanTime[0].MeanMS != 0.5 || agg.ScanTime[0].P50MS == 0 || agg.ScanTime[1].Class != store.URLClass {
		t.Errorf("scan time: %+v", agg.ScanTime)
	}
	if len(agg.Systems) != 1 || agg.Systems[0].Records != 2 || agg.Systems[0].OSVersion != "6.8" || agg.Systems[0].CPUs != "5-8" {
		t.Errorf("systems: %+v", agg.Systems)
	}
	a := sha256.Sum256([]byte("a"))
	top := agg.TopObjects
	if len(top) != 2 || string(top[0].Object) != string(a[:]) || top[0].Participants != 2 || top[0].Reports != 2 ||
		!top[0].FirstSeen.Equal(day1.Truncate(24*time.Hour)) || !top[0].LastSeen.Equal(day2.Truncate(24*time.Hour)) {
		t.Errorf("top objects: %+v", top)
	}
}

// testPrevalence counts distinct participants per half-year: one
// participant reporting a file twice counts once, a second one twice, and
// the same one again in the next half-year once more.
func testPrevalence(t *testing.T, db store.ServerDatabase) {
	unlocked(t, db)
	h1 := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	h2 := time.Date(2026, 8, 4, 0, 0, 0, 0, time.UTC)
	store1(t, db, participant(0), h1, fileSub(0, "p"))
	store1(t, db, participant(0), h1, fileSub(1, "p"))
	store1(t, db, participant(1), h1, fileSub(2, "p"), fileSub(3, "q"))
	store1(t, db, participant(0), h2, fileSub(4, "p"))
	p, q, r := sha256.Sum256([]byte("p")), sha256.Sum256([]byte("q")), sha256.Sum256([]byte("never"))
	stats, err := db.ObjectStats(ctx, store.ObjectFile, [][]byte{p[:], q[:], r[:]})
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 2 || stats[string(p[:])].Participants != 3 || stats[string(p[:])].Reports != 4 ||
		stats[string(q[:])].Participants != 1 || stats[string(q[:])].Kind != store.ObjectFile {
		t.Errorf("ObjectStats: %+v", stats)
	}
	if urls, err := db.ObjectStats(ctx, store.ObjectURL, [][]byte{p[:]}); err != nil || len(urls) != 0 {
		t.Errorf("ObjectStats of another kind: %+v, %v", urls, err)
	}
	if none, err := db.ObjectStats(ctx, store.ObjectFile, nil); err != nil || len(none) != 0 {
		t.Errorf("ObjectStats of nothing: %+v, %v", none, err)
	}
}
