package network

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/ksnproject/ksn/pkg/server"
)

// TestDeliveryPacedByLimits delivers a backlog three and a half times
// the license's burst: sized and spaced by the limits /v1/status
// announced, every batch is accepted, none refused with 429.
func TestDeliveryPacedByLimits(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, key := openServerDB(t, dir)
	var refused atomic.Int64
	h := server.New(server.Config{Store: db, Rate: 4000, Burst: 1000})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status == http.StatusTooManyRequests {
			refused.Add(1)
		}
	}))
	defer srv.Close()

	const n = 3500
	ps := outboxWith(t, dir, fileRecords(t, n))
	cl := clientOf(t, srv.URL, key)
	if _, err := cl.Status(ctx); err != nil {
		t.Fatal(err)
	}
	sent, err := deliverOutbox(ctx, cl, ps, nil)
	if err != nil || sent != n {
		t.Fatalf("delivery: sent %d, err %v; want all %d", sent, err, n)
	}
	if refused.Load() != 0 {
		t.Errorf("%d batches were refused with 429", refused.Load())
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
