//go:build linux

package main

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestKillCheck kills `ksn check` of a participant at random moments:
// while it hashes, appends its records to the outbox, delivers them and
// removes what was delivered. After every kill each record seen before is
// still in the outbox or on the server, and both databases are intact; at
// the end one delivery leaves the outbox empty and every record on the
// server once.
func TestKillCheck(t *testing.T) {
	t.Parallel() // mostly waiting on processes: two at once halve the wall time
	plan := newFaultPlan(t)
	dir := t.TempDir()
	srv := newFaultServer(t, dir)
	client := srv.participant(filepath.Join(dir, "client"))
	files := filepath.Join(dir, "files")
	writeFiles(t, files, "c", 200)
	// --rehash: every run reads every file rather than trusting the stat
	// cache, so the kills spread over hashing as well.
	args := []string{"check", "-r", "--rehash", files}
	took := client.timed(args...)
	seen := ledger{}
	seen.account(t, "after a whole run", client.outboxIDs(), serverIDs(t, srv.db))
	var k killTally
	k.kills(plan.size(20, 300), func(i int) bool {
		landed := client.killAfter(plan.delay(took), args...)
		assertIntact(t, filepath.Join(client.dir, "participation.db"))
		assertIntact(t, srv.db)
		seen.account(t, fmt.Sprintf("kill %d", i+1), client.outboxIDs(), serverIDs(t, srv.db))
		return landed
	})
	client.must("optin", "--accept") // delivers what the kills left behind
	finalDelivery(t, client, srv, seen)
	t.Logf("ksn check (%v a run): %d kills, %d landed while it ran; %d records, each on the server once",
		took, k.tries, k.landed, len(seen))
}

// TestKillOptin kills `ksn optin --accept` while it delivers a backlog
// collected offline, several times per backlog, then lets it finish.
func TestKillOptin(t *testing.T) {
	t.Parallel() // mostly waiting on processes: two at once halve the wall time
	plan := newFaultPlan(t)
	dir := t.TempDir()
	srv := newFaultServer(t, dir)
	client := srv.participant(filepath.Join(dir, "client"))
	files := filepath.Join(dir, "files")
	writeFiles(t, files, "o", plan.size(600, 1500))
	seen := ledger{}
	// The scale of the moments: one whole delivery of such a backlog.
	// --rehash: a file the stat cache knows unchanged is not observed
	// again, and each round needs a fresh record per file.
	backlog := []string{"check", "-r", "--rehash", files}
	client.must("optout")
	client.must(backlog...)
	took := client.timed("optin", "--accept")
	seen.account(t, "after a whole delivery", client.outboxIDs(), serverIDs(t, srv.db))
	rounds, perRound := plan.size(2, 25), plan.size(6, 10)
	var k killTally
	for r := range rounds {
		client.must("optout")
		client.must(backlog...)
		seen.account(t, fmt.Sprintf("round %d: backlog", r), client.outboxIDs(), serverIDs(t, srv.db))
		k.kills(perRound, func(i int) bool {
			// Half the scale: the measured run includes the start and
			// the end of the process, around a delivery that is short.
			landed := client.killAfter(plan.delay(took/2), "optin", "--accept")
			assertIntact(t, filepath.Join(client.dir, "participation.db"))
			assertIntact(t, srv.db)
			seen.account(t, fmt.Sprintf("round %d, kill %d", r, i+1), client.outboxIDs(), serverIDs(t, srv.db))
			return landed
		})
		client.must("optin", "--accept")
		finalDelivery(t, client, srv, seen)
	}
	t.Logf("ksn optin: %d rounds, %d kills, %d landed while it ran; %d records, each on the server once",
		rounds, k.tries, k.landed, len(seen))
}

// finalDelivery checks the end state: nothing left in the outbox, and
// every record ever seen on the server, once.
func finalDelivery(t *testing.T, client *ksnHome, srv *faultServer, seen ledger) {
	t.Helper()
	if left := client.outboxIDs(); len(left) != 0 {
		t.Fatalf("after a whole delivery the outbox still holds %d records", len(left))
	}
	assertIntact(t, filepath.Join(client.dir, "participation.db"))
	assertIntact(t, srv.db)
	on := serverIDs(t, srv.db)
	seen.account(t, "after the whole delivery", nil, on)
	if len(on) != len(seen) {
		t.Fatalf("the server holds %d records, %d were collected", len(on), len(seen))
	}
}
