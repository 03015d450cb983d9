package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/store"
)

// spamSub is a spam record of the message whose body is body, sent
// through the given addresses, with a judgement.
func spamSub(n int, body string, judgement string, ips ...string) store.Submission {
	sum := sha256.Sum256([]byte(body))
	f := &store.SpamFacts{Body: &sum, Judgement: judgement}
	quoted := ""
	for i, ip := range ips {
		if i > 0 {
			quoted += ","
		}
		quoted += `"` + ip + `"`
		if net := store.SpamNet(netip.MustParseAddr(ip)); !containsPrefix(f.Nets, net) {
			f.Nets = append(f.Nets, net)
		}
	}
	raw := fmt.Sprintf(`{"body_sha256":"%x","attachment_sha256":[],"picture_sha256":[],"sender_ips":[%s],"judgement":"%s"}`, sum, quoted, judgement)
	return store.Submission{
		Record: api.Record{ID: recordID(n), Kind: "spam", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Body: []byte(raw)},
		Spam:   f,
	}
}

func containsPrefix(ps []netip.Prefix, p netip.Prefix) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// testSpamAggregates: spam records are sealed like the others and counted
// per message body and per sender network (/24, /48): participants once
// per half-year, every record a report, judgements as spam and ham; the
// k rule of SpamOptions.MinParticipants hides what fewer reported.
func testSpamAggregates(t *testing.T, db store.ServerDatabase) {
	unlocked(t, db)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	// Two addresses of one /24 are one network; the IPv6 one its /48.
	store1(t, db, participant(0), at, spamSub(1, "buy now", store.JudgementNone, "8.8.8.8", "8.8.8.9", "2a00:1450:4001:81c::200e"))
	store1(t, db, participant(1), at, spamSub(2, "buy now", store.JudgementSpam, "8.8.8.77"), spamSub(3, "buy now", store.JudgementSpam, "8.8.8.77"))
	store1(t, db, participant(2), at, spamSub(4, "buy now", store.JudgementHam, "8.8.8.1"), spamSub(5, "hello", store.JudgementNone))
	if n := submissions(t, db); n != 5 {
		t.Errorf("%d records sealed, want 5", n)
	}
	st, err := db.SpamStats(ctx, store.SpamOptions{Top: 10})
	if err != nil {
		t.Fatal(err)
	}
	buy, hello := sha256.Sum256([]byte("buy now")), sha256.Sum256([]byte("hello"))
	if len(st.Bodies) != 2 {
		t.Fatalf("bodies %+v; want two", st.Bodies)
	}
	if b := st.Bodies[0]; b.Object != fmt.Sprintf("%x", buy) || b.Participants != 3 || b.Reports != 4 || b.Spam != 2 || b.Ham != 1 {
		t.Errorf("body of the spam: %+v; want 3 participants, 4 reports, 2 spam, 1 ham", b)
	}
	if b := st.Bodies[1]; b.Object != fmt.Sprintf("%x", hello) || b.Participants != 1 || b.Spam != 0 || b.Ham != 0 {
		t.Errorf("the other body: %+v", b)
	}
	if b := st.Bodies[0]; !b.FirstSeen.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) || !b.LastSeen.Equal(b.FirstSeen) {
		t.Errorf("days seen: %v, %v; want the UTC day", b.FirstSeen, b.LastSeen)
	}
	if len(st.Nets) != 2 {
		t.Fatalf("networks %+v; want 8.8.8.0/24 and 2a00:1450:4001::/48", st.Nets)
	}
	if n := st.Nets[0]; n.Object != "8.8.8.0/24" || n.Participants != 3 || n.Reports != 4 || n.Spam != 2 || n.Ham != 1 {
		t.Errorf("IPv4 network %+v", n)
	}
	if n := st.Nets[1]; n.Object != "2a00:1450:4001::/48" || n.Participants != 1 || n.Reports != 1 {
		t.Errorf("IPv6 network %+v", n)
	}
	if st, err := db.SpamStats(ctx, store.SpamOptions{Top: 10, MinParticipants: 3}); err != nil || len(st.Bodies) != 1 || len(st.Nets) != 1 {
		t.Errorf("from 3 participants: %+v, %v; want the spam's body and network only", st, err)
	}
	if st, err := db.SpamStats(ctx, store.SpamOptions{Top: 1}); err != nil || len(st.Bodies) != 1 || st.Bodies[0].Participants != 3 {
		t.Errorf("top 1: %+v, %v", st, err)
	}
	agg, err := db.Aggregates(ctx, store.AggregateOptions{})
	if err != nil || agg.Kinds["spam"] != 5 || agg.Objects[store.ObjectSpamBody] != 2 || agg.Objects[store.ObjectSpamNet] != 2 {
		t.Errorf("aggregates %+v, %v", agg, err)
	}
	// A record sent again counts nothing twice.
	if a, d := store1(t, db, participant(1), at, spamSub(2, "buy now", store.JudgementSpam, "8.8.8.77")); a != 0 || d != 1 {
		t.Errorf("resent: %d accepted, %d duplicates", a, d)
	}
	if st, _ := db.SpamStats(ctx, store.SpamOptions{Top: 1}); st.Bodies[0].Spam != 2 || st.Bodies[0].Reports != 4 {
		t.Errorf("after a resend: %+v", st.Bodies[0])
	}
}

// testSpamBadFacts: facts the server's parser must never let through (a
// network not cut to /24 or /48, an unknown judgement) fail the batch.
func testSpamBadFacts(t *testing.T, db store.ServerDatabase) {
	unlocked(t, db)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	wide := spamSub(1, "x", store.JudgementNone, "8.8.8.8")
	wide.Spam.Nets = []netip.Prefix{netip.MustParsePrefix("8.8.8.8/32")}
	odd := spamSub(2, "x", store.JudgementNone)
	odd.Spam.Judgement = "maybe"
	for _, sub := range []store.Submission{wide, odd} {
		if _, _, err := db.StoreSubmissions(ctx, participant(0), []store.Submission{sub}, at); !errors.Is(err, store.ErrBadFacts) {
			t.Errorf("%+v: %v; want ErrBadFacts", sub.Spam, err)
		}
	}
	if n := submissions(t, db); n != 0 {
		t.Errorf("%d records stored", n)
	}
}

// testSpamPurge: the spam statistics outlive the purge of the originals,
// except the objects fewer than MinParticipants reported, whose
// judgements go with them.
func testSpamPurge(t *testing.T, e *env) {
	db := unlocked(t, e.db)
	may := time.Date(2026, 5, 10, 9, 0, 0, 0, time.UTC)
	for p := range 3 {
		store1(t, db, participant(p), may, spamSub(10*p+1, "common", store.JudgementSpam, "8.8.8.8"))
	}
	store1(t, db, participant(0), may, spamSub(2, "rare", store.JudgementSpam, "9.9.9.9"))
	if n := e.b.Count(t, db, `SELECT count(*) FROM spam_judgements`); n != 4 {
		t.Fatalf("%d judgement rows before the purge, want 4", n)
	}
	res, err := db.Purge(ctx, store.PurgeOptions{Now: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), MinParticipants: 3})
	if err != nil || len(res.Purged) != 1 || res.Purged[0].Records != 4 {
		t.Fatalf("purge: %+v, %v", res, err)
	}
	if n := submissions(t, db); n != 0 {
		t.Errorf("%d sealed records left", n)
	}
	st, err := db.SpamStats(ctx, store.SpamOptions{Top: 10})
	if err != nil || len(st.Bodies) != 1 || len(st.Nets) != 1 {
		t.Fatalf("after the purge: %+v, %v; want the common body and network only", st, err)
	}
	if b, n := st.Bodies[0], st.Nets[0]; b.Participants != 3 || b.Spam != 3 || n.Object != "8.8.8.0/24" || n.Spam != 3 {
		t.Errorf("kept: %+v, %+v", b, n)
	}
	if n := e.b.Count(t, db, `SELECT count(*) FROM spam_judgements`); n != 2 {
		t.Errorf("%d judgement rows after the purge, want 2 (the rare body's and network's went)", n)
	}
}

// testURLPrevalence: the participants who reported a link, by the prefix
// of its hash, only from the minimum up; files with the same digest are
// not links.
func testURLPrevalence(t *testing.T, db store.ServerDatabase) {
	unlocked(t, db)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for p := range 3 {
		store1(t, db, participant(p), at, urlSub(10*p+1, "example.com/a"))
	}
	store1(t, db, participant(0), at, urlSub(2, "example.com/b"), fileSub(3, "example.com/c"))
	a, b, c := sha256.Sum256([]byte("example.com/a")), sha256.Sum256([]byte("example.com/b")), sha256.Sum256([]byte("example.com/c"))
	prefixes := []store.URLPrefix{store.URLPrefix(a[:4]), store.URLPrefix(b[:4]), store.URLPrefix(c[:4]), {0xff, 0xff, 0xff, 0xff}}
	for _, tc := range []struct {
		min  int
		want map[store.URLHash]int64
	}{
		{0, map[store.URLHash]int64{a: 3, b: 1}},
		{2, map[store.URLHash]int64{a: 3}},
		{3, map[store.URLHash]int64{a: 3}},
		{4, map[store.URLHash]int64{}},
	} {
		got, err := db.URLPrevalence(ctx, prefixes, tc.min)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("from %d: %v, %v; want %v", tc.min, got, err, tc.want)
		}
	}
	if got, err := db.URLPrevalence(ctx, []store.URLPrefix{store.URLPrefix(c[:4])}, 0); err != nil || len(got) != 0 {
		t.Errorf("a file's digest answered as a link: %v, %v", got, err)
	}
}
