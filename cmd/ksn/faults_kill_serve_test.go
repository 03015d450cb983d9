//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

// TestKillServe kills `ksn serve` (SIGKILL) at random moments while four
// clients submit batches of records, each retrying a batch until it is
// accepted, and restarts it on the same database. At the end the server
// holds every record once, its per-day counts agree, and the database is
// intact.
func TestKillServe(t *testing.T) {
	t.Parallel() // mostly waiting on processes: two at once halve the wall time
	plan := newFaultPlan(t)
	srv := newFaultServer(t, t.TempDir())
	kills := plan.size(25, 300)
	const clients, batch = 4, 50
	// Enough records that the clients are still submitting after the
	// last kill (about 10 ms a batch of 50 against a warm server).
	total := kills * 400
	var sent, retries atomic.Int64
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			participant := fmt.Sprintf("%032x", c+1)
			for first := c * batch; first < total; first += clients * batch {
				var recs []api.Record
				for i := first; i < min(first+batch, total); i++ {
					recs = append(recs, fileRecord(i))
				}
				for !submit(srv, api.SubmissionBatch{Participant: participant, Records: recs}) {
					retries.Add(1)
					time.Sleep(5 * time.Millisecond)
				}
				sent.Add(int64(len(recs)))
			}
		})
	}
	landed := 0
	for i := 0; i < kills && sent.Load() < int64(total); i++ {
		// Up to 150 ms of ingest between kills: a few dozen batches.
		time.Sleep(plan.delay(125 * time.Millisecond))
		if killAfter(srv.cmd, 0) {
			landed++
		}
		assertIntact(t, srv.db)
		srv.start()
	}
	wg.Wait()
	assertIntact(t, srv.db)
	ids := serverIDs(t, srv.db)
	for i := range total {
		if !ids[fileRecord(i).ID] {
			t.Fatalf("record %d (%s) was accepted but is not on the server", i, fileRecord(i).ID)
		}
	}
	if len(ids) != total {
		t.Fatalf("the server holds %d records, %d were sent", len(ids), total)
	}
	t.Logf("ksn serve: %d kills while 4 clients sent %d records (%d retried batches): each stored once",
		landed, total, retries.Load())
}

// submit sends a batch once; true when the server took it (202).
func submit(srv *faultServer, b api.SubmissionBatch) bool {
	body, _ := json.Marshal(b)
	req, _ := http.NewRequest(http.MethodPost, "http://"+srv.addr+api.PathSubmissions, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+srv.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusAccepted
}
