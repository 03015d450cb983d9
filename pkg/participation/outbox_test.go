package participation

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

var idPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// record returns a file record created at testEpoch + sec seconds whose
// body names n.
func record(t testing.TB, n int, sec int) Record {
	t.Helper()
	r, err := NewRecord(KindFile, map[string]int{"n": n}, testEpoch.Add(time.Duration(sec)*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// all returns the outbox, oldest first.
func all(t testing.TB, s *Store) []Record {
	t.Helper()
	var recs []Record
	if err := s.Records(context.Background(), func(r Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return recs
}

// ns returns the "n" of each record's body.
func ns(t testing.TB, recs []Record) []int {
	t.Helper()
	out := make([]int, len(recs))
	for i, r := range recs {
		var b struct{ N int }
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatalf("record %s: %v", r.ID, err)
		}
		out[i] = b.N
	}
	return out
}

func stats(t testing.TB, s *Store) OutboxStats {
	t.Helper()
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestNewRecord(t *testing.T) {
	now := time.Date(2025, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", -5*3600))
	obs := FileObservation{Digests: map[string]string{"sha256": "ab", "blake3": "cd"}, Size: 12, Verdict: "clean", HashMS: 0.5}
	r, err := NewRecord(KindFile, obs, now)
	if err != nil {
		t.Fatal(err)
	}
	if !idPattern.MatchString(r.ID) {
		t.Errorf("ID %q is not 32 lower-case hex chars", r.ID)
	}
	if r.Kind != KindFile || !r.CreatedAt.Equal(now) || r.CreatedAt.Location() != time.UTC {
		t.Errorf("NewRecord = %+v", r)
	}
	if want := `{"digests":{"blake3":"cd","sha256":"ab"},"size":12,"verdict":"clean","hash_ms":0.5}`; string(r.Body) != want {
		t.Errorf("Body = %s, want %s", r.Body, want)
	}
	// A raw body is compacted.
	r2, err := NewRecord(KindURL, json.RawMessage("{ \"host\" : \"example.com\" }"), now)
	if err != nil || string(r2.Body) != `{"host":"example.com"}` {
		t.Errorf("raw body: %s, %v", r2.Body, err)
	}
	// IDs are random: 1000 records, 1000 ids.
	seen := map[string]bool{}
	for range 1000 {
		r, err := NewRecord(KindSystem, struct{}{}, now)
		if err != nil {
			t.Fatal(err)
		}
		seen[r.ID] = true
	}
	if len(seen) != 1000 {
		t.Errorf("%d distinct ids of 1000", len(seen))
	}
	if r, err := NewRecord(KindFile, struct{}{}, time.Time{}); err != nil || r.CreatedAt.IsZero() {
		t.Errorf("zero now: %+v, %v", r, err)
	}

	for name, tc := range map[string]struct {
		kind Kind
		body any
	}{
		"unknown kind":   {"mail", struct{}{}},
		"no kind":        {"", struct{}{}},
		"a number":       {KindFile, 5},
		"a string":       {KindFile, "x"},
		"null":           {KindFile, nil},
		"an array":       {KindFile, []int{1}},
		"bytes":          {KindFile, []byte("{}")},
		"not marshalled": {KindFile, map[string]any{"x": math.Inf(1)}},
		"invalid raw":    {KindFile, json.RawMessage(`{"x":`)},
	} {
		if r, err := NewRecord(tc.kind, tc.body, now); err == nil {
			t.Errorf("%s: NewRecord = %+v, want an error", name, r)
		}
	}
}

func TestOutboxAppendStatsRecordsClear(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)

	if st := stats(t, s); st != (OutboxStats{}) {
		t.Errorf("Stats of an empty outbox = %+v", st)
	}
	if got := all(t, s); len(got) != 0 {
		t.Errorf("Records of an empty outbox: %d", len(got))
	}
	if n, err := s.Append(ctx, nil, Limits{MaxRecords: 1}); err != nil || n != 0 {
		t.Errorf("Append(nil) = %d, %v", n, err)
	}

	// Appended out of order: read back oldest first.
	in := []Record{record(t, 2, 20), record(t, 0, 0), record(t, 1, 10)}
	in = append(in, record(t, 3, 30), record(t, 4, 30)) // same time: arrival order
	if n, err := s.Append(ctx, in, Limits{}); err != nil || n != 0 {
		t.Fatalf("Append = %d, %v", n, err)
	}
	got := all(t, s)
	if want := []int{0, 1, 2, 3, 4}; !reflect.DeepEqual(ns(t, got), want) {
		t.Errorf("Records order = %v, want %v", ns(t, got), want)
	}
	byID := map[string]Record{}
	var size int64
	for _, r := range in {
		byID[r.ID] = r
		size += int64(len(r.Body))
	}
	for _, r := range got {
		if !sameRecord(r, byID[r.ID]) {
			t.Errorf("read back %+v, appended %+v", r, byID[r.ID])
		}
	}
	want := OutboxStats{Records: 5, Bytes: size, Oldest: testEpoch, Newest: testEpoch.Add(30 * time.Second)}
	if st := stats(t, s); !reflect.DeepEqual(st, want) {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}

	if n, err := s.Clear(ctx); err != nil || n != 5 {
		t.Errorf("Clear = %d, %v; want 5", n, err)
	}
	if st := stats(t, s); st != (OutboxStats{}) {
		t.Errorf("Stats after Clear = %+v", st)
	}
	if n, err := s.Clear(ctx); err != nil || n != 0 {
		t.Errorf("second Clear = %d, %v; want 0", n, err)
	}
}

// Duplicate IDs are not looked for (IDs are 128 random bits, and the
// server ignores an ID it has seen): a record appended twice is kept twice,
// counted twice, and Delete removes it.
func TestOutboxKeepsDuplicateIDs(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	a, b, c := record(t, 1, 1), record(t, 2, 2), record(t, 3, 3)
	if _, err := s.Append(ctx, []Record{a, b}, Limits{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, []Record{b, c, c}, Limits{MaxRecords: 4}); err != nil {
		t.Fatal(err)
	}
	if got := ns(t, all(t, s)); !reflect.DeepEqual(got, []int{2, 2, 3, 3}) {
		t.Errorf("outbox = %v, want [2 2 3 3]", got)
	}
	if st := stats(t, s); st.Records != 4 || st.DroppedFull != 1 {
		t.Errorf("Stats = %+v", st)
	}
	if err := s.Delete(ctx, []string{b.ID, c.ID}); err != nil {
		t.Fatal(err)
	}
	if st := stats(t, s); st.Records != 0 {
		t.Errorf("after Delete: %+v", st)
	}
}

func TestOutboxEvictsOldestWhenFull(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	lim := Limits{MaxRecords: 10}
	batch := func(from, to int) []Record {
		var recs []Record
		for i := from; i < to; i++ {
			recs = append(recs, record(t, i, i))
		}
		return recs
	}
	steps := []struct {
		recs        []Record
		wantEvicted int
		wantNs      []int
		wantDropped int64
	}{
		{batch(0, 7), 0, []int{0, 1, 2, 3, 4, 5, 6}, 0},
		{batch(7, 14), 4, []int{4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, 4},
		// A record older than all others is the one that goes.
		{[]Record{record(t, -1, -1)}, 1, []int{4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, 5},
		// A batch larger than the outbox: only its newest 10 stay.
		{batch(100, 125), 25, []int{115, 116, 117, 118, 119, 120, 121, 122, 123, 124}, 30},
	}
	for i, st := range steps {
		n, err := s.Append(ctx, st.recs, lim)
		if err != nil {
			t.Fatal(err)
		}
		if n != st.wantEvicted {
			t.Errorf("step %d: evicted %d, want %d", i, n, st.wantEvicted)
		}
		if got := ns(t, all(t, s)); !reflect.DeepEqual(got, st.wantNs) {
			t.Errorf("step %d: outbox %v, want %v", i, got, st.wantNs)
		}
		if got := stats(t, s); got.DroppedFull != st.wantDropped || got.DroppedAge != 0 || got.Records != len(st.wantNs) {
			t.Errorf("step %d: Stats = %+v, want DroppedFull %d", i, got, st.wantDropped)
		}
	}
	// Unbounded: nothing goes.
	if n, err := s.Append(ctx, batch(200, 230), Limits{MaxRecords: 0}); err != nil || n != 0 {
		t.Errorf("unbounded Append = %d, %v", n, err)
	}
	if got := stats(t, s); got.Records != 40 || got.DroppedFull != 30 {
		t.Errorf("after an unbounded Append: %+v", got)
	}
	// Clear keeps the counters.
	if _, err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stats(t, s); got.DroppedFull != 30 {
		t.Errorf("DroppedFull after Clear = %d, want 30", got.DroppedFull)
	}
}

func TestOutboxDropsOldRecords(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	s.now = func() time.Time { return testEpoch.Add(10 * time.Hour) }
	var recs []Record
	for h := range 10 {
		recs = append(recs, record(t, h, h*3600)) // created at epoch + h hours
	}
	if _, err := s.Append(ctx, recs, Limits{}); err != nil {
		t.Fatal(err)
	}
	// Records created before epoch+3h: 0, 1, 2.
	if n, err := s.DropOlderThan(ctx, testEpoch.Add(3*time.Hour)); err != nil || n != 3 {
		t.Errorf("DropOlderThan = %d, %v; want 3", n, err)
	}
	if got := ns(t, all(t, s)); !reflect.DeepEqual(got, []int{3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("outbox = %v", got)
	}
	if n, err := s.DropOlderThan(ctx, testEpoch.Add(3*time.Hour)); err != nil || n != 0 {
		t.Errorf("DropOlderThan again = %d, %v; want 0", n, err)
	}
	// Cutoffs beyond what UnixNano represents.
	if n, err := s.DropOlderThan(ctx, time.Time{}); err != nil || n != 0 {
		t.Errorf("DropOlderThan(zero time) = %d, %v; want 0", n, err)
	}
	if n, err := s.DropOlderThan(ctx, time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil || n != 0 {
		t.Errorf("DropOlderThan(year 1000) = %d, %v; want 0", n, err)
	}
	// Append applies MaxAge against the store's clock (epoch+10h): a
	// limit of 5h drops what was created before epoch+5h (3 and 4), and
	// the new record created at epoch+1h.
	n, err := s.Append(ctx, []Record{record(t, 100, 3600), record(t, 101, 10*3600)}, Limits{MaxAge: 5 * time.Hour})
	if err != nil || n != 3 {
		t.Errorf("Append with MaxAge = %d, %v; want 3 dropped", n, err)
	}
	if got := ns(t, all(t, s)); !reflect.DeepEqual(got, []int{5, 6, 7, 8, 9, 101}) {
		t.Errorf("outbox = %v", got)
	}
	st := stats(t, s)
	if st.DroppedAge != 6 || st.DroppedFull != 0 {
		t.Errorf("Stats = %+v, want DroppedAge 6", st)
	}
	if _, err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if st := stats(t, s); st.DroppedAge != 6 {
		t.Errorf("DroppedAge after Clear = %d, want 6", st.DroppedAge)
	}
}

func TestOutboxDelete(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	recs := []Record{record(t, 0, 0), record(t, 1, 1), record(t, 2, 2), record(t, 3, 3)}
	if _, err := s.Append(ctx, recs, Limits{}); err != nil {
		t.Fatal(err)
	}
	unknown := strings.Repeat("0", 32)
	if err := s.Delete(ctx, []string{recs[1].ID, recs[3].ID, unknown}); err != nil {
		t.Fatal(err)
	}
	if got := ns(t, all(t, s)); !reflect.DeepEqual(got, []int{0, 2}) {
		t.Errorf("outbox after Delete = %v, want [0 2]", got)
	}
	if err := s.Delete(ctx, nil); err != nil {
		t.Error(err)
	}
	if err := s.Delete(ctx, []string{recs[0].ID, "not-an-id"}); err == nil {
		t.Error("Delete of a malformed id: no error")
	}
	if got := ns(t, all(t, s)); !reflect.DeepEqual(got, []int{0, 2}) {
		t.Errorf("a failed Delete deleted something: %v", got)
	}
	// Deleted records are not counted as dropped: they were delivered.
	if st := stats(t, s); st.DroppedAge != 0 || st.DroppedFull != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestOutboxRefusesInvalidRecords(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for name, mutate := range map[string]func(*Record){
		"short id":      func(r *Record) { r.ID = r.ID[:30] },
		"upper-case id": func(r *Record) { r.ID = strings.ToUpper(r.ID) },
		"unknown kind":  func(r *Record) { r.Kind = "mail" },
		"no time":       func(r *Record) { r.CreatedAt = time.Time{} },
		"year 3000":     func(r *Record) { r.CreatedAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"torn body":     func(r *Record) { r.Body = r.Body[:len(r.Body)-1] },
		"no body":       func(r *Record) { r.Body = nil },
		"not an object": func(r *Record) { r.Body = json.RawMessage(`[1,2]`) },
	} {
		bad := record(t, 1, 1)
		mutate(&bad)
		if _, err := s.Append(ctx, []Record{record(t, 0, 0), bad}, Limits{}); err == nil {
			t.Errorf("%s: appended", name)
		}
		if _, err := s.AppendSystemRecord(ctx, Record{ID: bad.ID, Kind: KindSystem, CreatedAt: bad.CreatedAt, Body: bad.Body}, Limits{}); err == nil && name != "unknown kind" {
			t.Errorf("%s: appended as a system record", name)
		}
	}
	// Many records are validated in parallel; the bad one is still found.
	many := fileRecords(t, 10_000, testEpoch)
	many[7777].Body = json.RawMessage(`{"x":}`)
	if _, err := s.Append(ctx, many, Limits{}); err == nil || !strings.Contains(err.Error(), many[7777].ID) {
		t.Errorf("a bad record among 10,000: %v", err)
	}
	// (The one system record is the valid one of the "unknown kind" case.)
	if n := countKind(t, s, KindFile); n != 0 {
		t.Errorf("%d file records appended", n)
	}
}

func TestRecordsStopsAtError(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if _, err := s.Append(ctx, fileRecords(t, 5, testEpoch), Limits{}); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	calls := 0
	err := s.Records(ctx, func(Record) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 2 {
		t.Errorf("Records = %v after %d calls; want the callback's error after 2", err, calls)
	}
}

// The outbox is streamed: the callback may write meanwhile, as delivery
// will (it deletes what was delivered while reading on).
func TestRecordsWhileDeleting(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	recs := fileRecords(t, 1000, testEpoch)
	if _, err := s.Append(ctx, recs, Limits{}); err != nil {
		t.Fatal(err)
	}
	seen := 0
	err := s.Records(ctx, func(r Record) error {
		if r.ID != recs[seen].ID {
			t.Fatalf("record %d is %s, want %s", seen, r.ID, recs[seen].ID)
		}
		seen++
		return s.Delete(ctx, []string{r.ID})
	})
	if err != nil || seen != 1000 {
		t.Fatalf("Records = %v after %d records", err, seen)
	}
	if st := stats(t, s); st.Records != 0 {
		t.Errorf("%d records left", st.Records)
	}
}

func systemRecord(t testing.TB, at time.Time) Record {
	t.Helper()
	r, err := NewRecord(KindSystem, CurrentSystem("test"), at)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func countKind(t testing.TB, s *Store, k Kind) int {
	t.Helper()
	n := 0
	for _, r := range all(t, s) {
		if r.Kind == k {
			n++
		}
	}
	return n
}

func TestSystemRecordOncePerDay(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	due := func(at time.Time) bool {
		t.Helper()
		ok, err := s.SystemRecordDue(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	add := func(at time.Time) bool {
		t.Helper()
		ok, err := s.AppendSystemRecord(ctx, systemRecord(t, at), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	t0 := testEpoch
	if !due(t0) {
		t.Error("a fresh store: not due")
	}
	if !add(t0) {
		t.Error("first system record not appended")
	}
	for _, d := range []time.Duration{0, time.Second, time.Hour, 23*time.Hour + 59*time.Minute} {
		if due(t0.Add(d)) {
			t.Errorf("due %v after the last one", d)
		}
		if add(t0.Add(d)) {
			t.Errorf("appended %v after the last one", d)
		}
	}
	// Clearing the outbox does not make it due: the store remembers.
	if _, err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if due(t0.Add(time.Hour)) {
		t.Error("due after Clear")
	}
	t1 := t0.Add(24 * time.Hour)
	if !due(t1) || !add(t1) {
		t.Error("not appended 24 h later")
	}
	if n := countKind(t, s, KindSystem); n != 1 {
		t.Errorf("%d system records after Clear and one more, want 1", n)
	}
	// A clock set back a little is not a new day; set back by days, it
	// must not silence the record for ever.
	if due(t1.Add(-time.Hour)) {
		t.Error("due an hour before the last one")
	}
	if !due(t1.Add(-48 * time.Hour)) {
		t.Error("not due two days before the last one (clock set back)")
	}
	// Only system records.
	if _, err := s.AppendSystemRecord(ctx, record(t, 1, 0), Limits{}); err == nil {
		t.Error("a file record appended as the system record")
	}
	// Limits apply.
	if _, err := s.Append(ctx, fileRecords(t, 5, t1.Add(time.Minute)), Limits{}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.AppendSystemRecord(ctx, systemRecord(t, t1.Add(48*time.Hour)), Limits{MaxRecords: 3}); err != nil || !ok {
		t.Fatalf("AppendSystemRecord = %v, %v", ok, err)
	}
	if st := stats(t, s); st.Records != 3 || st.DroppedFull != 4 {
		t.Errorf("after AppendSystemRecord with MaxRecords 3: %+v", st)
	}
}

func TestSystemRecordBody(t *testing.T) {
	r := systemRecord(t, testEpoch)
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	want := []string{"arch", "cpus", "ksn_version", "memory_gib", "os", "os_version"}
	if len(keys) != len(want) {
		t.Errorf("system record fields %v, want %v", keys, want)
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Errorf("system record lacks %q: %s", k, r.Body)
		}
	}
}
