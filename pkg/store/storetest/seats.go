package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/store"
)

func testLicenseSeats(t *testing.T, db store.ServerDatabase) {
	key, l, err := db.CreateLicense(ctx, "team", nil)
	if err != nil || l.Seats != 1 {
		t.Fatalf("a new license: %+v, %v; want one seat", l, err)
	}
	got, err := db.SetLicenseSeats(ctx, strconv.FormatInt(l.ID, 10), 25)
	if err != nil || got.Seats != 25 || got.ID != l.ID {
		t.Fatalf("SetLicenseSeats by id: %+v, %v", got, err)
	}
	if got, err = db.LicenseByKey(ctx, key); err != nil || got.Seats != 25 {
		t.Errorf("LicenseByKey after seats: %+v, %v", got, err)
	}
	if got, err = db.SetLicenseSeats(ctx, key, store.MaxSeats); err != nil || got.Seats != store.MaxSeats {
		t.Errorf("SetLicenseSeats by key: %+v, %v", got, err)
	}
	for _, bad := range []int{0, -1, store.MaxSeats + 1} {
		if _, err := db.SetLicenseSeats(ctx, key, bad); err == nil {
			t.Errorf("%d seats accepted", bad)
		}
	}
	if _, err := db.SetLicenseSeats(ctx, "999999", 2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("seats of a missing license: %v", err)
	}
	ls, err := db.ListLicenses(ctx)
	if err != nil || len(ls) != 1 || ls[0].Seats != store.MaxSeats {
		t.Errorf("ListLicenses: %+v, %v", ls, err)
	}
}

// code returns participant code n of license lic, with lic's seats.
func code(lic int64, seats, n int) store.Sender {
	return store.Sender{License: lic, Seats: seats, Participant: fmt.Sprintf("%016x%016x", lic, n)}
}

// testSeatsCapPrevalence: a license sending one file under many made-up
// participant codes counts as one participant (its seat); a second
// license as a second; more seats admit more codes, the codes seated
// before stay counted, and the next half-year starts afresh. Every record
// is stored and counted as a report.
func testSeatsCapPrevalence(t *testing.T, db store.ServerDatabase) {
	unlocked(t, db)
	h1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const codes = 200
	for n := range codes {
		store1(t, db, code(1, 1, n), h1, fileSub(n, "x"))
	}
	stat := func(seed string) store.ObjectStat {
		t.Helper()
		sum := sha256.Sum256([]byte(seed))
		st, err := db.ObjectStats(ctx, store.ObjectFile, [][]byte{sum[:]})
		if err != nil {
			t.Fatal(err)
		}
		return st[string(sum[:])]
	}
	if st := stat("x"); st.Participants != 1 || st.Reports != codes {
		t.Errorf("%d codes of one license: %d participants, %d reports; want 1 and %d", codes, st.Participants, st.Reports, codes)
	}
	store1(t, db, code(2, 1, 0), h1, fileSub(1000, "x"))
	if st := stat("x"); st.Participants != 2 {
		t.Errorf("a second license: %d participants, want 2", st.Participants)
	}
	// Three seats: the seated code and two new ones count; a third new
	// one does not.
	for i, n := range []int{0, 500, 501, 502} {
		store1(t, db, code(1, 3, n), h1, fileSub(2000+i, "y"))
	}
	if st := stat("y"); st.Participants != 3 || st.Reports != 4 {
		t.Errorf("three seats: %+v; want 3 participants of 4 reports", st)
	}
	// The next half-year counts afresh: a code never seen takes the seat.
	store1(t, db, code(1, 1, 900), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), fileSub(3000, "z"))
	if st := stat("z"); st.Participants != 1 {
		t.Errorf("next half-year: %+v", st)
	}
	if n := submissions(t, db); n != codes+1+4+1 {
		t.Errorf("%d records stored, want every one", n)
	}
}

// testConcurrentSeats: codes of one license of two seats arrive at once
// (several replicas, several goroutines): exactly two count.
func testConcurrentSeats(t *testing.T, db store.ServerDatabase) {
	unlocked(t, db)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for n := range 8 {
		wg.Go(func() {
			if _, _, err := db.StoreSubmissions(ctx, code(7, 2, n), []store.Submission{fileSub(n, "w")}, at); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	sum := sha256.Sum256([]byte("w"))
	st, err := db.ObjectStats(ctx, store.ObjectFile, [][]byte{sum[:]})
	if err != nil || st[string(sum[:])].Participants != 2 || st[string(sum[:])].Reports != 8 {
		t.Errorf("8 codes of a license of 2 seats at once: %+v, %v; want 2 participants", st, err)
	}
}
