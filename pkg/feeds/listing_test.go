package feeds

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/exitcode"
)

func testListing(t *testing.T) (config.Paths, func() Listing) {
	t.Helper()
	env := map[string]string{"KSN_HOME": t.TempDir()}
	paths, err := config.ResolvePaths(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return paths, func() Listing {
		t.Helper()
		s, err := config.LoadSettings(paths, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		l, err := LoadListing(paths, s)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
}

// The hint that no feed was ever updated is given once, and remembered;
// a warning about old feeds is given every time.
func TestAfterRun(t *testing.T) {
	_, load := testListing(t)
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	l := load()
	if n := l.AfterRun(now); n.Kind != Hint {
		t.Fatalf("first run: %+v", n)
	}
	l = load()
	if n := l.AfterRun(now); n.Kind != NoNotice {
		t.Fatalf("second run: %+v", n)
	}
	for _, f := range l.Feeds {
		l.State.Feeds[f.Name] = FeedState{URL: f.URL, CheckedAt: now.Add(-30 * 24 * time.Hour)}
	}
	for range 2 {
		if n := l.AfterRun(now); n.Kind != Warning {
			t.Fatalf("old feeds: %+v", n)
		}
	}
	st := l.Status(now)
	if st.Enabled != 3 || st.Updated != 3 || st.OldestAgeSeconds == nil || *st.OldestAgeSeconds != 30*24*3600 || st.Kind != Warning {
		t.Errorf("status: %+v", st)
	}
}

// The JSON forms are the documented schemas: a feed of `ksn feed list
// --json`, the feeds of `ksn status --json`.
func TestListingJSON(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	feeds := []Feed{{Name: "a", URL: "https://a.example/", Format: URLList, Enabled: true}}
	st := State{Feeds: map[string]FeedState{"a": {URL: "https://a.example/", ETag: `"e"`, CheckedAt: now.Add(-90 * time.Second),
		UpdatedAt: now.Add(-time.Hour), Indicators: 2, Held: 5, LastError: "cut"}}}
	b, _ := json.Marshal(List(feeds, st, now, time.Minute))
	want := `[{"name":"a","builtin":false,"enabled":true,"format":"url-list","url":"https://a.example/","updated_at":"2026-03-10T11:00:00Z",` +
		`"checked_at":"2026-03-10T11:58:30Z","age_seconds":90,"stale":true,"etag":"\"e\"","last_modified":"","indicators":5,"last_import_indicators":2,"last_error":"cut"}]`
	if string(b) != want {
		t.Errorf("feed list:\n got %s\nwant %s", b, want)
	}
	l := Listing{Feeds: feeds, State: State{Feeds: map[string]FeedState{}}, MaxAge: time.Minute}
	b, _ = json.Marshal(l.Status(now))
	want = `{"enabled":1,"updated":0,"oldest_age_seconds":null,"max_age_seconds":60,"notice":"hint","text":"` + Freshness(feeds, l.State, now, time.Minute).Text + `"}`
	if string(b) != want {
		t.Errorf("status:\n got %s\nwant %s", b, want)
	}
}

func TestAddRemoveSelect(t *testing.T) {
	paths, load := testListing(t)
	for _, name := range []string{"Bad", "urlhaus-recent"} {
		if err := CheckName(name); exitcode.Of(err) != exitcode.Usage {
			t.Errorf("CheckName(%q): %v", name, err)
		}
	}
	l := load()
	if err := l.Add("Bad", "https://lists.example/l.txt", "url-list"); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("added a bad name: %v", err)
	}
	if err := l.Add("mine", "https://lists.example/l.txt", "url-list"); err != nil {
		t.Fatal(err)
	}
	l = load()
	if err := l.Add("mine", "https://lists.example/other.txt", "auto"); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("added twice: %v", err)
	}
	if got, err := Select(l.Feeds, []string{"mine"}); err != nil || len(got) != 1 || got[0].Format != URLList {
		t.Errorf("select mine: %+v, %v", got, err)
	}
	if _, err := Select(l.Feeds, []string{"nosuch"}); err == nil || !strings.Contains(err.Error(), `no feed is named "nosuch" (known: `) {
		t.Errorf("select nosuch: %v", err)
	}
	if err := Disable(paths, "urlhaus-recent"); err != nil {
		t.Fatal(err)
	}
	if err := l.Remove("mine", func(err error) { t.Errorf("warned: %v", err) }); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range must(Select(load().Feeds, nil)) {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "malwarebazaar-recent,urlhaus-hostfile" {
		t.Errorf("enabled after remove and disable: %v", names)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
