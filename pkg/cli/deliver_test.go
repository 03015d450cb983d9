package cli

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/participation"
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

// TestDeliveryAtLeastOnceNeverTwice sends an outbox to a real server, with
// the client "killed" after the server took a batch: the records stay,
// are sent again, and the server still holds each exactly once.
func TestDeliveryAtLeastOnceNeverTwice(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.OpenSQLite(ctx, filepath.Join(dir, "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, _, err := db.CreateLicense(ctx, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{Store: db}))
	defer srv.Close()

	ps, err := participation.Open(ctx, filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	const n = 2500 // three batches
	var recs []participation.Record
	for i := range n {
		r, err := participation.NewRecord(participation.KindFile, map[string]int{"i": i}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if _, err := ps.Append(ctx, recs, participation.Limits{}); err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(client.Options{Endpoint: srv.URL, LicenseKey: key})
	if err != nil {
		t.Fatal(err)
	}

	box := &crashingOutbox{Store: ps, crashes: 1}
	sent, err := deliverOutbox(ctx, cl, box)
	if !errors.Is(err, errCrash) || sent != 0 {
		t.Fatalf("first delivery: sent %d, err %v; want the crash after the first batch", sent, err)
	}
	stats, _ := db.Stats(ctx)
	if stats.Submissions != 1000 {
		t.Fatalf("server holds %d after the crash, want the 1000 of the first batch", stats.Submissions)
	}
	sent, err = deliverOutbox(ctx, cl, box)
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
