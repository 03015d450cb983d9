package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
)

// feedServer serves files by path with an ETag and a Last-Modified,
// answers conditional requests with 304, and counts what it was asked.
type feedServer struct {
	*httptest.Server
	mu          sync.Mutex
	files       map[string][]byte
	requests    atomic.Int64
	conditional atomic.Int64
	mode        string // "", "truncate", "429", "403", "hang", "trickle"
	referers    []string
}

func newFeedServer(t *testing.T) *feedServer {
	fs := &feedServer{files: map[string][]byte{}}
	fs.Server = httptest.NewServer(http.HandlerFunc(fs.serve))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *feedServer) set(path string, body []byte) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.files[path] = body
}

func (fs *feedServer) serve(w http.ResponseWriter, r *http.Request) {
	fs.requests.Add(1)
	if to, ok := strings.CutPrefix(r.URL.Path, "/redirect"); ok {
		http.Redirect(w, r, to, http.StatusFound)
		return
	}
	fs.mu.Lock()
	if ref := r.Header.Get("Referer"); ref != "" {
		fs.referers = append(fs.referers, ref)
	}
	body, ok := fs.files[r.URL.Path]
	mode := fs.mode
	fs.mu.Unlock()
	if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
		fs.conditional.Add(1)
	}
	switch {
	case mode == "429":
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	case mode == "403":
		w.WriteHeader(http.StatusForbidden)
		return
	case !ok:
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", "Sun, 01 Mar 2026 10:00:00 GMT")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	switch mode {
	case "truncate":
		// Promise the whole file, send half, hang up.
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	case "trickle":
		// A byte every 10 ms: never a stall, never an end.
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		for i := range body {
			if _, err := w.Write(body[i : i+1]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
		return
	case "hang":
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:10])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	}
	w.Write(body)
}

func (fs *feedServer) setMode(m string) { fs.mu.Lock(); fs.mode = m; fs.mu.Unlock() }

const mbRecent = `################################################################
# MalwareBazaar recent malware samples (CSV)                   #
################################################################
# "first_seen_utc","sha256_hash","md5_hash","sha1_hash","reporter","file_name","file_type_guess","mime_type","signature","clamav","vtpercent","imphash","ssdeep","tlsh"
`

func mbLine(content, sig string) string {
	s := sha256.Sum256([]byte(content))
	return mbStd("2026-03-01 10:00:00", hex.EncodeToString(s[:]), "x.exe", sig) + "\n"
}

func lookupMB(t *testing.T, u *Updater, content string) reputation.Result {
	t.Helper()
	return verdictOf(t, u.DB.(*store.Local), content)
}

func newUpdater(t *testing.T) (*Updater, string) {
	t.Helper()
	dir := t.TempDir()
	return &Updater{DB: openTestDB(t), StatePath: filepath.Join(dir, StateFile), TempDir: dir, UserAgent: "ksn-test"}, dir
}

func TestUpdateConditional(t *testing.T) {
	srv := newFeedServer(t)
	srv.set("/recent/", []byte(mbRecent+mbLine("a", "Alpha")+mbLine("b", "Beta")))
	u, _ := newUpdater(t)
	feed := Feed{Name: "malwarebazaar-recent", URL: srv.URL + "/recent/", Format: MalwareBazaar, Enabled: true}
	ctx := context.Background()

	res, err := u.Update(ctx, []Feed{feed})
	if err != nil || len(res) != 1 || res[0].Outcome != Added || res[0].Imported.Stats.Added != 2 {
		t.Fatalf("first update: %+v, %v", res, err)
	}
	if r := lookupMB(t, u, "b"); r.Verdict != reputation.Malicious || r.ThreatName != "Beta" || r.Sources[0] != "malwarebazaar-recent" {
		t.Errorf("after the first update: %+v", r)
	}
	st, _ := LoadState(u.StatePath)
	fs := st.Feeds["malwarebazaar-recent"]
	if fs.ETag == "" || fs.LastModified == "" || fs.Held != 2 || fs.Indicators != 2 || fs.CheckedAt.IsZero() {
		t.Fatalf("state %+v", fs)
	}

	// The second run asks conditionally and imports nothing.
	res, err = u.Update(ctx, []Feed{feed})
	if err != nil || res[0].Outcome != Unchanged || res[0].Imported.Summary.Indicators != 2 {
		t.Fatalf("second update: %+v, %v", res, err)
	}
	if srv.requests.Load() != 2 || srv.conditional.Load() != 1 {
		t.Errorf("%d requests, %d conditional", srv.requests.Load(), srv.conditional.Load())
	}

	// A new version is imported; what it adds is counted as held.
	srv.set("/recent/", []byte(mbRecent+mbLine("a", "Alpha")+mbLine("c", "Gamma")))
	res, _ = u.Update(ctx, []Feed{feed})
	if res[0].Outcome != Updated || res[0].Imported.Stats.Added != 1 || res[0].Imported.Stats.Unchanged != 1 {
		t.Fatalf("third update: %+v", res[0])
	}
	st, _ = LoadState(u.StatePath)
	if st.Feeds["malwarebazaar-recent"].Held != 3 {
		t.Errorf("held %d", st.Feeds["malwarebazaar-recent"].Held)
	}

	// --force ignores the validators, and the same file is not imported
	// again... unless forced: then it is, and changes nothing.
	u.Force = true
	res, _ = u.Update(ctx, []Feed{feed})
	if res[0].Outcome != Updated || res[0].Imported.Stats.Unchanged != 2 {
		t.Errorf("forced update: %+v", res[0])
	}
}

// A download that trickles just fast enough to keep the stall watchdog
// fed still ends, at the deadline, and imports nothing.
func TestUpdateDeadline(t *testing.T) {
	srv := newFeedServer(t)
	srv.set("/recent/", []byte(mbRecent+mbLine("a", "Alpha")))
	srv.setMode("trickle")
	u, _ := newUpdater(t)
	u.Stall, u.MaxTime = 5*time.Second, 300*time.Millisecond
	feed := Feed{Name: "mb", URL: srv.URL + "/recent/", Format: MalwareBazaar, Enabled: true}
	res, err := u.Update(context.Background(), []Feed{feed})
	if err != nil || res[0].Outcome != Failed || !strings.Contains(res[0].Err.Error(), "took longer than 300ms") {
		t.Fatalf("%+v, %v", res, err)
	}
	if r := lookupMB(t, u, "a"); r.Verdict != reputation.Unknown {
		t.Errorf("a feed that never finished imported: %+v", r)
	}
}

// A redirect is followed without telling its target where it came from:
// the feed's URL may carry an access key in its query.
func TestUpdateRedirectSendsNoReferer(t *testing.T) {
	srv := newFeedServer(t)
	srv.set("/recent/", []byte(mbRecent+mbLine("a", "Alpha")))
	u, _ := newUpdater(t)
	feed := Feed{Name: "mb", URL: srv.URL + "/redirect/recent/?auth_key=FEEDSECRET", Format: MalwareBazaar, Enabled: true}
	res, err := u.Update(context.Background(), []Feed{feed})
	if err != nil || res[0].Outcome != Added {
		t.Fatalf("update through a redirect: %+v, %v", res, err)
	}
	if srv.requests.Load() != 2 || len(srv.referers) != 0 {
		t.Errorf("%d requests; the target was sent Referer %q", srv.requests.Load(), srv.referers)
	}
}

// A download cut short, or one that stalls, imports nothing and keeps the
// previous state, validators included, with the reason.
func TestUpdateIncomplete(t *testing.T) {
	srv := newFeedServer(t)
	body := []byte(mbRecent + mbLine("a", "Alpha") + mbLine("b", "Beta") + mbLine("c", "Gamma"))
	srv.set("/recent", body)
	u, _ := newUpdater(t)
	feed := Feed{Name: "mb", URL: srv.URL + "/recent", Format: MalwareBazaar, Enabled: true}
	ctx := context.Background()

	srv.setMode("truncate")
	res, err := u.Update(ctx, []Feed{feed})
	if err != nil || res[0].Outcome != Failed || !strings.Contains(res[0].Err.Error(), "cut short") || res[0].Err.Reason != ReasonService {
		t.Fatalf("truncated: %+v, %v", res[0], err)
	}
	if r := lookupMB(t, u, "a"); r.Verdict != reputation.Unknown {
		t.Errorf("a cut download imported %+v", r)
	}
	st, _ := LoadState(u.StatePath)
	if fs := st.Feeds["mb"]; fs.LastError == "" || !fs.CheckedAt.IsZero() || fs.ETag != "" {
		t.Errorf("state after a failure: %+v", fs)
	}

	srv.setMode("hang")
	u.Stall = 100 * time.Millisecond
	res, _ = u.Update(ctx, []Feed{feed})
	if res[0].Outcome != Failed || !strings.Contains(res[0].Err.Error(), "stalled") {
		t.Fatalf("stalled: %+v", res[0])
	}

	srv.setMode("")
	if res, _ = u.Update(ctx, []Feed{feed}); res[0].Outcome != Added {
		t.Fatalf("recovery: %+v", res[0])
	}
	if r := lookupMB(t, u, "c"); r.Verdict != reputation.Malicious || r.Sources[0] != "mb" {
		t.Errorf("after recovery: %+v", r)
	}
}

// A gzip-compressed feed cut at a point no length announced is caught
// before the import.
func TestUpdateCutGzip(t *testing.T) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.Write([]byte(mbRecent + strings.Repeat(mbLine("a", "Alpha"), 200)))
	gz.Close()
	srv := newFeedServer(t)
	srv.set("/full.csv.gz", buf.Bytes()[:buf.Len()-10])
	u, _ := newUpdater(t)
	res, _ := u.Update(context.Background(), []Feed{{Name: "mb", URL: srv.URL + "/full.csv.gz", Format: Auto, Enabled: true}})
	if res[0].Outcome != Failed || !strings.Contains(res[0].Err.Error(), "damaged or cut short") {
		t.Fatalf("cut gzip: %+v", res[0])
	}
}

func TestUpdateRefusals(t *testing.T) {
	srv := newFeedServer(t)
	srv.set("/x", []byte("evil.example\n"))
	u, _ := newUpdater(t)
	ctx := context.Background()
	for _, c := range []struct {
		mode   string
		feed   Feed
		reason string
		says   string
	}{
		{"", Feed{Name: "off", URL: srv.URL + "/x", Format: URLList}, ReasonSettings, "disabled"},
		{"", Feed{Name: "nourl", Enabled: true}, ReasonSettings, "no URL"},
		{"", Feed{Name: "plain", URL: "http://lists.example/x", Enabled: true}, ReasonSettings, "plain http"},
		{"", Feed{Name: "gone", URL: srv.URL + "/missing", Enabled: true}, ReasonService, "HTTP 404"},
		{"429", Feed{Name: "busy", URL: srv.URL + "/x", Enabled: true}, ReasonLimited, "wait 2m0s"},
		{"403", Feed{Name: "keyed", URL: srv.URL + "/x", Enabled: true}, ReasonDenied, "account key"},
		{"", Feed{Name: "wrong", URL: srv.URL + "/x", Format: KnownGood, Enabled: true}, ReasonService, "nothing was imported"},
		{"", Feed{Name: "down", URL: "http://127.0.0.1:1/x", Enabled: true}, ReasonOffline, "cannot reach"},
	} {
		srv.setMode(c.mode)
		res, err := u.Update(ctx, []Feed{c.feed})
		if err != nil || res[0].Outcome != Failed || res[0].Err.Reason != c.reason || !strings.Contains(res[0].Err.Error(), c.says) {
			t.Errorf("%s: %+v, %v", c.feed.Name, res[0].Err, err)
		}
	}
}

func TestFreshness(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	feeds := []Feed{{Name: "a", URL: "https://a.example/", Enabled: true}, {Name: "b", URL: "https://b.example/", Enabled: true}, {Name: "c", URL: "https://c.example/"}}
	st := State{Feeds: map[string]FeedState{}}
	if n := Freshness(feeds, st, now, 7*24*time.Hour); n.Kind != Hint || !strings.Contains(n.Text, "ksn feed update") {
		t.Errorf("never updated: %+v", n)
	}
	st.Feeds["a"] = FeedState{URL: "https://a.example/", CheckedAt: now.Add(-2 * 24 * time.Hour)}
	st.Feeds["b"] = FeedState{URL: "https://b.example/", CheckedAt: now.Add(-9 * 24 * time.Hour)}
	n := Freshness(feeds, st, now, 7*24*time.Hour)
	if n.Kind != Warning || n.Text != "feeds older than 7d: b (9d old); verdicts may miss recent threats: run 'ksn feed update'" {
		t.Errorf("stale: %+v", n)
	}
	if n := Freshness(feeds, st, now, 0); n.Kind != NoNotice {
		t.Errorf("max_age 0: %+v", n)
	}
	// A mirror set since: the state of the old URL says nothing.
	feeds[0].URL = "https://mirror.example/"
	if n := Freshness(feeds, st, now, 7*24*time.Hour); !strings.Contains(n.Text, "a (never updated)") {
		t.Errorf("mirror: %+v", n)
	}
	if n := Freshness(nil, st, now, time.Hour); n.Kind != NoNotice {
		t.Errorf("no feeds: %+v", n)
	}
}

// Every format a feed can be updated with is one the settings accept,
// and the other way round.
func TestFeedFormatsMatchSettings(t *testing.T) {
	k, ok := config.LookupKey("feed.mine.format")
	if !ok {
		t.Fatal("no feed.NAME.format setting")
	}
	var want []string
	for _, f := range Fetchable() {
		want = append(want, string(f))
	}
	if got := k.Choices(); !slices.Equal(got, want) {
		t.Errorf("settings accept %v, feeds fetch %v", got, want)
	}
}

func TestFileNameOf(t *testing.T) {
	for in, want := range map[string]string{
		"https://bazaar.abuse.ch/export/csv/recent/":     "recent",
		"https://database.clamav.net/daily.cvd":          "daily.cvd",
		"https://x.example/":                             "feed",
		"https://x.example/a%2Fb":                        "b",
		"https://x.example/%1b[31m.txt":                  "feed",
		"https://urlhaus.abuse.ch/downloads/hostfile/?x": "hostfile",
	} {
		if got := fileNameOf(in); got != want {
			t.Errorf("fileNameOf(%s) = %q, want %q", in, got, want)
		}
	}
}

// A Retry-After becomes words of ksn's own: the header's text is the
// server's, and would reach the terminal and --json as it came.
func TestRetryAfterText(t *testing.T) {
	for in, want := range map[string]string{
		"120":                           "2m0s",
		"-5":                            "an unreadable time",
		"99999999999999999999":          "an unreadable time",
		"Sun, 01 Mar 2026 10:00:00 GMT": "Sun, 01 Mar 2026 10:00:00 UTC",
		"soon\u202e\u009b":              "an unreadable time",
	} {
		if got := retryAfterText(in); got != want {
			t.Errorf("retryAfterText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFailure: a run fails with the exit code of its first failure, and
// says how many failed.
func TestFailure(t *testing.T) {
	ok := UpdateResult{Outcome: Unchanged}
	offline := UpdateResult{Outcome: Failed, Err: failure(ReasonOffline, "no route")}
	denied := UpdateResult{Outcome: Failed, Err: failure(ReasonDenied, "403")}
	if err := Failure([]UpdateResult{ok, {Outcome: Added}}); err != nil {
		t.Errorf("no failure: %v", err)
	}
	err := Failure([]UpdateResult{ok, denied, offline})
	if exitcode.Of(err) != exitcode.LicenseBlocked || err.Error() != "2 of 3 feeds failed; the database keeps what they held" {
		t.Errorf("got %v (exit %v)", err, exitcode.Of(err))
	}
}

func TestUpdaterClose(t *testing.T) {
	db := openTestDB(t)
	u := &Updater{DB: db}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Algorithms(context.Background()); err == nil {
		t.Error("the database is still open")
	}
	if err := (&Updater{}).Close(); err != nil {
		t.Errorf("no database: %v", err)
	}
}
