package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/seal"
	"github.com/ksnproject/ksn/pkg/server"
	"github.com/ksnproject/ksn/pkg/store"
)

// storeFiles stores a file record for each digest byte given, received at.
func storeFiles(t *testing.T, db *store.Server, participant string, at time.Time, first int, digests ...byte) {
	t.Helper()
	var subs []store.Submission
	for i, d := range digests {
		sha := [32]byte{d}
		body := fmt.Sprintf(`{"digests":{"sha256":"%x"},"size":10,"verdict":"unknown","hash_ms":0.5}`, sha)
		subs = append(subs, store.Submission{
			Record: api.Record{ID: fmt.Sprintf("%032x", first+i), Kind: "file", CreatedAt: at, Body: json.RawMessage(body)},
			File:   &store.FileFacts{SHA256: sha, Size: 10, HashMS: 0.5},
		})
	}
	if _, _, err := db.StoreSubmissions(context.Background(), store.Sender{License: int64(participant[0]), Seats: 1, Participant: participant}, subs, at); err != nil {
		t.Fatal(err)
	}
}

const (
	cliPartA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	cliPartB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func TestAdminKeygen(t *testing.T) {
	opts, _, take := adminFixture(t)
	path := filepath.Join(t.TempDir(), "k.kek")
	if err := admin(t, opts, "keygen", "--out", path); err != nil {
		t.Fatal(err)
	}
	if _, e := take(); !strings.Contains(e, "wrote a new key-encryption key to "+path) || !strings.Contains(e, "ksn serve --kek-file "+path) {
		t.Errorf("stderr %q", e)
	}
	k, insecure, err := seal.ReadKEKFile(path)
	if err != nil || insecure || k == (seal.Key{}) {
		t.Fatalf("key file: %v, insecure %v", err, insecure)
	}
	if err := admin(t, opts, "keygen", "--out", path); exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second keygen: %v", err)
	}
	if again, _, _ := seal.ReadKEKFile(path); again != k {
		t.Error("keygen replaced a key")
	}
}

// TestAdminPurgeAndStats: purge on an injected clock destroys the ended
// half-year, says so, and leaves stats' aggregates as they were.
func TestAdminPurgeAndStats(t *testing.T) {
	ctx := context.Background()
	opts, _, take := adminFixture(t)
	db := openAdminDB(t, opts)
	if err := db.UnlockSubmissions(ctx, seal.Key{7}); err != nil {
		t.Fatal(err)
	}
	storeFiles(t, db, cliPartA, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), 1, 1, 2)
	storeFiles(t, db, cliPartB, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), 3, 1)
	storeFiles(t, db, cliPartA, time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC), 4, 1)

	stats := func() server.StatsReport {
		t.Helper()
		if err := admin(t, opts, "stats", "--json", "--days", "0", "--top", "5"); err != nil {
			t.Fatal(err)
		}
		out, _ := take()
		var st server.StatsReport
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		return st
	}
	before := stats()
	if before.Submissions != 4 || len(before.Sealed) != 2 || len(before.Purged) != 0 {
		t.Fatalf("stats before %+v", before)
	}
	top := before.Aggregates.TopObjects
	if len(top) != 2 || top[0].Participants != 3 || fmt.Sprintf("%x", top[0].Object) != fmt.Sprintf("%x", [32]byte{1}) || top[0].Reports != 3 {
		t.Errorf("top objects %+v", top)
	}
	if sc := before.Aggregates.ScanTime; len(sc) != 1 || sc[0].Class != "<64KiB" || sc[0].Records != 4 || sc[0].MeanMS != 0.5 {
		t.Errorf("scan time %+v", sc)
	}

	opts.Now = func() time.Time { return time.Date(2026, 7, 7, 0, 0, 0, 0, time.UTC) }
	if err := admin(t, opts, "purge", "--min-prevalence", "0"); err != nil {
		t.Fatal(err)
	}
	if out, _ := take(); !strings.Contains(out, "nothing to purge\n") || !strings.Contains(out, "2026H1: 3 sealed records kept until 2026-07-08T00:00:00Z\n") {
		t.Errorf("purge within the grace:\n%s", out)
	}
	opts.Now = func() time.Time { return time.Date(2026, 7, 8, 0, 0, 0, 0, time.UTC) }
	if err := admin(t, opts, "purge", "--min-prevalence", "0", "--json"); err != nil {
		t.Fatal(err)
	}
	out, _ := take()
	var pj server.PurgeReport
	if err := json.Unmarshal([]byte(out), &pj); err != nil {
		t.Fatal(err)
	}
	if len(pj.Purged) != 1 || pj.Purged[0].HalfYear != "2026H1" || pj.Purged[0].Records != 3 || !pj.Checkpointed ||
		len(pj.Kept) != 1 || pj.Kept[0].HalfYear != "2026H2" || pj.Kept[0].Records != 1 {
		t.Errorf("purge --json %s", out)
	}

	after := stats()
	if after.Submissions != 1 || len(after.Purged) != 1 || after.Purged[0].Records != 3 {
		t.Errorf("stats after %+v", after)
	}
	b1, _ := json.Marshal(before.Aggregates)
	b2, _ := json.Marshal(after.Aggregates)
	if string(b1) != string(b2) {
		t.Errorf("the purge changed the aggregates:\n%s\n%s", b1, b2)
	}

	if err := admin(t, opts, "stats"); err != nil {
		t.Fatal(err)
	}
	text, _ := take()
	for _, want := range []string{
		"submissions  1\n",
		"sealed       2026H2: 1 records (the half-year ends 2027-01-01)\n",
		"purged       2026H1: 3 records, on 2026-07-08\n",
		"records received  file 4, url 0, system 0 (distinct: 2 files, 0 links)\n",
		"2026-09-01  file  1\n",
		fmt.Sprintf("3             3        2026-03-01  2026-09-01  file  %x\n", [32]byte{1}),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("stats lack %q:\n%s", want, text)
		}
	}
}

func TestAdminVerify(t *testing.T) {
	ctx := context.Background()
	opts, _, take := adminFixture(t)
	dir := t.TempDir()
	k1, k2 := filepath.Join(dir, "k1"), filepath.Join(dir, "k2")
	kek, err := seal.WriteKEKFile(k1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seal.WriteKEKFile(k2); err != nil {
		t.Fatal(err)
	}
	db := openAdminDB(t, opts)
	if err := db.UnlockSubmissions(ctx, kek); err != nil {
		t.Fatal(err)
	}
	storeFiles(t, db, cliPartA, time.Now(), 1, 1, 2, 3)

	if err := admin(t, opts, "verify", "--kek-file", k1); err != nil {
		t.Fatal(err)
	}
	out, errOut := take()
	if !strings.Contains(out, " 3 ") || !strings.Contains(errOut, "every sealed submission opens with "+k1) {
		t.Errorf("verify:\n%s%s", out, errOut)
	}
	err = admin(t, opts, "verify", "--kek-file", k2)
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "key-encryption key in "+k2+" is not the one") {
		t.Errorf("verify with another key: %v", err)
	}
	// The key from the environment, then the default beside the database.
	opts.Env = func(k string) string {
		if k == server.KEKEnv {
			return k1
		}
		return ""
	}
	if err := admin(t, opts, "verify", "--json"); err != nil {
		t.Fatal(err)
	}
	if out, _ := take(); !strings.Contains(out, `"records":3,"opened":3`) || !strings.Contains(out, `"ok":true`) {
		t.Errorf("verify --json: %s", out)
	}
	opts.Env = nil
	err = admin(t, opts, "verify")
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), opts.DB+".kek does not exist") {
		t.Errorf("verify without a key: %v", err)
	}
	if _, err := os.Stat(opts.DB + ".kek"); !os.IsNotExist(err) {
		t.Error("verify made a key file")
	}
	// A damaged record fails verification with exit 7.
	if _, err := db.DB().Exec(`UPDATE sealed_submissions SET sealed = zeroblob(length(sealed)) WHERE id = (SELECT min(id) FROM sealed_submissions)`); err != nil {
		t.Fatal(err)
	}
	if err := admin(t, opts, "verify", "--kek-file", k1); exitcode.Of(err) != exitcode.ServiceError {
		t.Errorf("verify of a damaged record: %v", err)
	}
}
