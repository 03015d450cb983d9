package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/seal"
	"github.com/ksnproject/ksn/pkg/store"
)

// submitFiles posts one file record per digest byte to a running server,
// each from participant code part.
func submitFiles(t *testing.T, url, key, part string, at time.Time, first int, digests ...byte) {
	t.Helper()
	var recs []api.Record
	for i, d := range digests {
		body := fmt.Sprintf(`{"digests":{"sha256":"%x"},"size":10,"verdict":"unknown","hash_ms":0.5}`, [32]byte{d})
		recs = append(recs, api.Record{ID: fmt.Sprintf("%032x", first+i), Kind: "file", CreatedAt: at, Body: json.RawMessage(body)})
	}
	b, _ := json.Marshal(api.SubmissionBatch{Participant: part, Records: recs})
	req, _ := http.NewRequest("POST", url+api.PathSubmissions, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submission: %s", resp.Status)
	}
}

// copyDB copies a database file and its WAL, as a file-level backup does.
func copyDB(t *testing.T, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "data", "backup.db")
	os.MkdirAll(filepath.Dir(dst), 0o700)
	for _, suffix := range []string{"", "-wal"} {
		if b, err := os.ReadFile(path + suffix); err == nil {
			if err := os.WriteFile(dst+suffix, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dst
}

// TestBackupOpensNothingPurged runs a server with the default places of
// its keys, in the state directory: nothing of them is in the data
// directory. A copy of the database (with its WAL) taken before the purge
// and verified after it, with the key-encryption key and every data key
// that still exists, opens no record of the purged half-year; the
// per-object aggregate of a file one participant reported is gone.
func TestBackupOpensNothingPurged(t *testing.T) {
	ctx := context.Background()
	dataDir, state := t.TempDir(), t.TempDir()
	db := filepath.Join(dataDir, DefaultDBFileName)
	a := &Admin{DB: db, StateDir: state, Now: func() time.Time { return time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) }}
	if _, _, err := a.Init(ctx); err != nil {
		t.Fatal(err)
	}
	lic, err := a.CreateLicense(ctx, "team", Expiry{Never: true}, 3)
	if err != nil {
		t.Fatal(err)
	}
	may := time.Date(2026, 5, 10, 9, 0, 0, 0, time.UTC)
	l := runUntilListening(t, RunOptions{Listen: "127.0.0.1:0", DB: db, MinPrevalence: 2, Keys: KeyPlaces{StateDir: state},
		Now: func() time.Time { return may }}, func(l Listening) {
		submitFiles(t, l.URL, lic.Key, strings.Repeat("a", 32), may, 1, 1, 2) // file 2: one participant
		submitFiles(t, l.URL, lic.Key, strings.Repeat("b", 32), may, 3, 1)
	})
	id := filepath.Base(l.KeyDir)
	if l.KeyDir != filepath.Join(state, "server-keys", id) || l.KEKFile != filepath.Join(state, "server-kek", id+".kek") || !l.KEKCreated {
		t.Fatalf("key places: %+v", l)
	}
	entries, _ := os.ReadDir(dataDir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), DefaultDBFileName) || strings.Contains(e.Name(), ".k") {
			t.Errorf("the data directory holds %s", e.Name())
		}
	}

	backup := copyDB(t, db)
	a.Now = func() time.Time { return time.Date(2026, 7, 9, 0, 0, 0, 0, time.UTC) }
	rep, err := a.Purge(ctx, 7*24*time.Hour, 2)
	if err != nil || len(rep.Purged) != 1 || rep.Purged[0].Records != 3 || rep.Purged[0].ObjectRows != 1 || !rep.Checkpointed {
		t.Fatalf("purge: %+v, %v", rep, err)
	}
	st, err := a.Stats(ctx, 0, 10)
	if err != nil || len(st.Aggregates.TopObjects) != 1 || st.Aggregates.TopObjects[0].Participants != 2 {
		t.Errorf("objects after the purge: %+v, %v; want file 1 (two participants) alone", st.Aggregates.TopObjects, err)
	}

	b := &Admin{DB: backup, StateDir: state}
	vr, err := b.Verify(ctx, KEKSource{})
	if err != nil || vr.OK || len(vr.HalfYears) != 1 || vr.HalfYears[0].Records != 3 || vr.HalfYears[0].Opened != 0 {
		t.Errorf("the backup, verified with every key that exists: %+v, %v; want none of its 3 records open", vr, err)
	}
}

// TestKeysMovedOut: a database an earlier version ran has its
// key-encryption key beside it and its data keys in it. A start with a
// state directory moves both out and says so, and what was sealed still
// opens.
func TestKeysMovedOut(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), DefaultDBFileName)
	state := t.TempDir()
	first := runUntilListening(t, RunOptions{Listen: "127.0.0.1:0", DB: db}) // the old places
	if first.KEKFile != db+kekSuffix || first.KeyDir != db+".keys" {
		t.Fatalf("without a state directory: %+v", first)
	}
	s, err := store.OpenServer(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	kek, _, err := seal.ReadKEKFile(db + kekSuffix)
	if err != nil {
		t.Fatal(err)
	}
	s.UnlockSubmissions(ctx, kek)
	at := time.Now()
	if _, _, err := s.StoreSubmissions(ctx, store.Sender{License: 1, Participant: strings.Repeat("a", 32)}, []store.Submission{{
		Record: api.Record{ID: strings.Repeat("1", 32), Kind: "system", CreatedAt: at, Body: json.RawMessage(`{}`)},
		System: &store.SystemFacts{OS: "linux"}}}, at); err != nil {
		t.Fatal(err)
	}
	// As an earlier version kept it: the wrapped key in the database.
	keys := seal.KeyDir{Path: db + ".keys"}
	labels, _ := keys.Labels()
	wrapped, _ := keys.Load(labels[0])
	if _, err := s.DB().Exec(`INSERT INTO submission_keys (half_year, wrapped, created_at) VALUES (?, ?, 1)`, labels[0], wrapped); err != nil {
		t.Fatal(err)
	}
	keys.Destroy(labels[0])
	s.Close()

	l := runUntilListening(t, RunOptions{Listen: "127.0.0.1:0", DB: db, Keys: KeyPlaces{StateDir: state}})
	if l.KEKMovedFrom != db+kekSuffix || !strings.HasPrefix(l.KEKFile, state) || l.KEKCreated || l.KeysMoved != 1 || !strings.HasPrefix(l.KeyDir, state) {
		t.Fatalf("second start: %+v", l)
	}
	if _, err := os.Stat(db + kekSuffix); !os.IsNotExist(err) {
		t.Errorf("the old key file is still beside the database: %v", err)
	}
	vr, err := (&Admin{DB: db, StateDir: state}).Verify(ctx, KEKSource{})
	if err != nil || !vr.OK || len(vr.HalfYears) != 1 || vr.HalfYears[0].Opened != 1 || vr.KEKFile != l.KEKFile {
		t.Errorf("verify after the move: %+v, %v", vr, err)
	}
}

// TestKeyDirOfOneDatabase: a key directory given to two databases is
// refused for the second; one inside the database's directory is a
// warning.
func TestKeyDirOfOneDatabase(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(t.TempDir(), "keys")
	var warnings []string
	warn := func(m string) { warnings = append(warnings, m) }
	runUntilListening(t, RunOptions{Listen: "127.0.0.1:0", DB: filepath.Join(dir, "one.db"), Keys: KeyPlaces{KeyDir: keys}, Warn: warn})
	err := Run(context.Background(), RunOptions{Listen: "127.0.0.1:0", DB: filepath.Join(dir, "two.db"), Keys: KeyPlaces{KeyDir: keys}})
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "belongs to another database") {
		t.Errorf("a second database on one key directory: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	runUntilListening(t, RunOptions{Listen: "127.0.0.1:0", DB: filepath.Join(dir, "three.db"), Keys: KeyPlaces{KeyDir: filepath.Join(dir, "k")}, Warn: warn})
	if len(warnings) != 1 || !strings.Contains(warnings[0], "inside the database's directory") {
		t.Errorf("warnings: %q", warnings)
	}
}

// owedPurger is a database whose first purges cannot checkpoint.
type owedPurger struct {
	mu    sync.Mutex
	calls int
	owed  int // purges that report a checkpoint still owed
}

func (p *owedPurger) Purge(context.Context, store.PurgeOptions) (store.PurgeResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	return store.PurgeResult{Checkpointed: p.calls > p.owed}, nil
}

// TestRetentionRetriesCheckpoint: while a purge reports a checkpoint
// owed, the schedule tries again every RetryEvery, not hourly; once it is
// done, it waits for the next hour.
func TestRetentionRetriesCheckpoint(t *testing.T) {
	p := &owedPurger{owed: 3}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		(&Retention{Store: p, Every: time.Hour, RetryEvery: 5 * time.Millisecond}).Run(ctx)
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.mu.Lock()
		n := p.calls
		p.mu.Unlock()
		if n >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-done
	if p.calls != 4 {
		t.Errorf("%d purges; want 3 owing a checkpoint, the 4th completing it, then none within the hour", p.calls)
	}
}
