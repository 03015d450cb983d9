package network

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/sources"

	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/participation"
	"github.com/ksnproject/ksn/pkg/seal"
	"github.com/ksnproject/ksn/pkg/server"
	"github.com/ksnproject/ksn/pkg/store"
)

// crashingOutbox dies, like a killed process, after the server accepted a
// batch and before the batch left the outbox: the worst moment.
type crashingOutbox struct {
	*participation.Store
	crashes int
}

var errCrash = errors.New("killed between send and delete")

func (o *crashingOutbox) Delete(ctx context.Context, ids []string) error {
	if o.crashes > 0 {
		o.crashes--
		return errCrash
	}
	return o.Store.Delete(ctx, ids)
}

// openServerDB opens a server database in dir that takes submissions, with
// one license, whose key it returns; it is closed when the test ends.
func openServerDB(t *testing.T, dir string) (*store.Server, string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenServer(ctx, filepath.Join(dir, "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.UnlockSubmissions(ctx, seal.Key{1}); err != nil {
		t.Fatal(err)
	}
	key, _, err := db.CreateLicense(ctx, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	return db, key
}

// TestDeliveryAtLeastOnceNeverTwice sends an outbox to a real server, with
// the client "killed" after the server took a batch: the records stay,
// are sent again, and the server still holds each exactly once.
func TestDeliveryAtLeastOnceNeverTwice(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, key := openServerDB(t, dir)
	srv := httptest.NewServer(server.New(server.Config{Store: db}))
	defer srv.Close()

	const n = 2500 // three batches
	ps := outboxWith(t, dir, fileRecords(t, n))
	cl := clientOf(t, srv.URL, key)

	box := &crashingOutbox{Store: ps, crashes: 1}
	sent, err := deliverOutbox(ctx, cl, box, nil)
	if !errors.Is(err, errCrash) || sent != 0 {
		t.Fatalf("first delivery: sent %d, err %v; want the crash after the first batch", sent, err)
	}
	stats, _ := db.Stats(ctx)
	if stats.Submissions != 1000 {
		t.Fatalf("server holds %d after the crash, want the 1000 of the first batch", stats.Submissions)
	}
	sent, err = deliverOutbox(ctx, cl, box, nil)
	if err != nil || sent != n {
		t.Fatalf("second delivery: sent %d, err %v", sent, err)
	}
	if stats, _ = db.Stats(ctx); stats.Submissions != n {
		t.Fatalf("server holds %d records, want exactly %d", stats.Submissions, n)
	}
	if st, _ := ps.Stats(ctx); st.Records != 0 {
		t.Fatalf("outbox still holds %d records", st.Records)
	}
}

// TestOptoutStopsARunningCheck records an opt-out, as `ksn optout` in
// another terminal would, while a check participates: the check's next
// lookup and its delivery must not reach the server at all.
func TestOptoutStopsARunningCheck(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.OpenServer(ctx, filepath.Join(dir, "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, _, err := db.CreateLicense(ctx, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	var requests atomic.Int64
	h := server.New(server.Config{Store: db})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()

	ps, err := participation.Open(ctx, filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	st := participation.Builtin()
	accepted, err := ps.Record(ctx, participation.Decision{Accepted: true, Level: participation.Extended,
		StatementID: st.ID, StatementSHA256: st.SHA256, Via: participation.ViaFlag, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := participation.NewRecord(participation.KindFile, map[string]int{"i": 1}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Append(ctx, []participation.Record{rec}, participation.Limits{}); err != nil {
		t.Fatal(err)
	}
	c := &Consent{store: ps, statement: st, status: participation.Evaluate(&accepted, func(string) string { return "" }, st, "")}
	if !c.status.Participating {
		t.Fatalf("status %+v, want participating", c.status)
	}
	cl, err := client.New(client.Options{Endpoint: srv.URL, LicenseKey: key})
	if err != nil {
		t.Fatal(err)
	}
	msgs := &recordedMessages{}
	n := &Session{cl: cl, consent: c, msg: msgs, sendOutbox: true}
	n.source = &gate{s: n, inner: sources.NewServer(cl, sources.ServerOptions{})}
	batch := []reputation.FileQuery{{Size: 1, Digests: checksum.Digests{checksum.SHA256: make([]byte, 32)}}}

	if _, err := n.source.LookupFiles(ctx, batch); err != nil || requests.Load() != 1 {
		t.Fatalf("while participating: err %v, %d requests; want one lookup", err, requests.Load())
	}
	if _, err := ps.Record(ctx, participation.Decision{Accepted: false, Via: participation.ViaFlag, Version: "test"}); err != nil {
		t.Fatal(err)
	}
	answers, err := n.source.LookupFiles(ctx, batch)
	if err != nil || len(answers) != 1 || answers[0].Given() {
		t.Fatalf("after the opt-out: answers %+v, err %v; want no answer and no error", answers, err)
	}
	n.Deliver(ctx, &Collector{consent: c})
	if got := requests.Load(); got != 1 {
		t.Fatalf("the server got %d requests after the opt-out, want none", got-1)
	}
	if err := n.Failure(); err != nil {
		t.Fatalf("network error %v: an opt-out is not a failure", err)
	}
	if !strings.Contains(msgs.String(), "participation was withdrawn") {
		t.Fatalf("stderr %q does not say why the network was left", msgs.String())
	}
	if s, _ := ps.Stats(ctx); s.Records != 1 {
		t.Fatalf("outbox holds %d records, want the 1 that was not sent", s.Records)
	}
}

// recordedMessages keeps what a command would print on standard error.
type recordedMessages struct{ strings.Builder }

func (m *recordedMessages) Warnf(format string, args ...any) {
	fmt.Fprintf(&m.Builder, "warning: "+format+"\n", args...)
}

func (m *recordedMessages) Errorf(format string, args ...any) {
	fmt.Fprintf(&m.Builder, format+"\n", args...)
}

// TestDeliveryDropsRecordsNowForbidden: link records an earlier version
// collected that this version's rules forbid (a carrier-grade NAT host, an
// address at a one-label domain in the path) are dropped, not sent: the
// server would refuse the whole batch for them, at every delivery.
func TestDeliveryDropsRecordsNowForbidden(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, key := openServerDB(t, dir)
	srv := httptest.NewServer(server.New(server.Config{Store: db}))
	defer srv.Close()
	var recs []participation.Record
	for _, u := range []string{"http://100.101.102.103/admin", "https://example.com/u/jane.doe@corp/x", "https://example.com/ok"} {
		r, err := participation.NewRecord(participation.KindURL, map[string]any{"url": u, "verdict": "unknown", "check_ms": 1}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	ps := outboxWith(t, dir, recs)
	cl := clientOf(t, srv.URL, key)
	if sent, err := deliverOutbox(ctx, cl, ps, nil); err != nil || sent != 1 {
		t.Fatalf("sent %d, %v; want the one link still allowed", sent, err)
	}
	if st, _ := ps.Stats(ctx); st.Records != 0 {
		t.Errorf("outbox holds %d records, want none (the forbidden ones dropped)", st.Records)
	}
	if stats, _ := db.Stats(ctx); stats.Submissions != 1 {
		t.Errorf("server holds %d records, want 1", stats.Submissions)
	}
}

// outboxWith opens the participation store under dir with recs in its
// outbox; the test closes it.
func outboxWith(t *testing.T, dir string, recs []participation.Record) *participation.Store {
	t.Helper()
	ctx := context.Background()
	ps, err := participation.Open(ctx, filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	if _, err := ps.Append(ctx, recs, participation.Limits{}); err != nil {
		t.Fatal(err)
	}
	return ps
}

// fileRecords makes n file records of distinct digests.
func fileRecords(t *testing.T, n int) []participation.Record {
	t.Helper()
	var recs []participation.Record
	for i := range n {
		r, err := participation.NewFileRecord(participation.FileObservation{
			Digests: map[string]string{"sha256": fmt.Sprintf("%064x", i)}, Size: int64(i), Verdict: "unknown"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

// clientOf is a client of the server at url with a license key.
func clientOf(t *testing.T, url, key string) *client.Client {
	t.Helper()
	cl, err := client.New(client.Options{Endpoint: url, LicenseKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}
