package config

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestBuiltinFeeds(t *testing.T) {
	s := mustLoad(t, testPaths(t), nil)
	if got := s.Members("feed"); !slices.Equal(got, []string{"malwarebazaar-recent", "urlhaus-recent", "urlhaus-hostfile"}) {
		t.Fatalf("Members(feed) = %v", got)
	}
	for name, want := range map[string]string{
		"feed.malwarebazaar-recent.url":    "https://bazaar.abuse.ch/export/csv/recent/",
		"feed.malwarebazaar-recent.format": "malwarebazaar",
		"feed.urlhaus-recent.url":          "https://urlhaus.abuse.ch/downloads/csv_recent/",
		"feed.urlhaus-hostfile.format":     "urlhaus-hostfile",
		"feed.urlhaus-hostfile.enabled":    "true",
	} {
		if got := s.String(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if !s.Bool("feed.urlhaus-recent.enabled") {
		t.Error("a built-in feed is not enabled by default")
	}
	if !IsBuiltin("feed", "urlhaus-recent") || IsBuiltin("feed", "mine") || IsBuiltin("nope", "urlhaus-recent") {
		t.Error("IsBuiltin")
	}
}

// A user's own feed lives in a table of its own; its URL keeps its
// trailing slash and query (it names a file, not a base), and the
// environment overrides an existing member's fields.
func TestUserFeedInFile(t *testing.T) {
	p := testPaths(t)
	writeConfig(t, p, `
[feed]
max_age = "3d"

[feed.my-list]
url = "https://lists.example/bad.txt?v=2"
format = "url-list"

[feed.urlhaus-hostfile]
enabled = false
`)
	s := mustLoad(t, p, map[string]string{"KSN_FEED_MY_LIST_FORMAT": "URL-LIST", "KSN_FEED_URLHAUS_RECENT_URL": "https://mirror.example/csv_recent/"})
	if got := s.Members("feed"); !slices.Equal(got, []string{"malwarebazaar-recent", "urlhaus-recent", "urlhaus-hostfile", "my-list"}) {
		t.Fatalf("Members(feed) = %v", got)
	}
	if got := s.String("feed.my-list.url"); got != "https://lists.example/bad.txt?v=2" {
		t.Errorf("url = %q", got)
	}
	v, _ := s.Get("feed.my-list.format")
	if v.Value != "url-list" || v.Source != "env KSN_FEED_MY_LIST_FORMAT" {
		t.Errorf("format = %+v", v)
	}
	if v, _ := s.Get("feed.urlhaus-recent.url"); v.Value != "https://mirror.example/csv_recent/" || v.Source != "env KSN_FEED_URLHAUS_RECENT_URL" {
		t.Errorf("mirror = %+v", v)
	}
	if s.Bool("feed.urlhaus-hostfile.enabled") {
		t.Error("disabled in the file, still enabled")
	}
	if d := s.Duration("feed.max_age"); d != 3*day {
		t.Errorf("feed.max_age = %v", d)
	}
	// A member that does not exist reads as its default.
	if v, err := s.Get("feed.nothing.format"); err != nil || v.Value != "auto" || v.Source != "default" {
		t.Errorf("Get(feed.nothing.format) = %+v, %v", v, err)
	}
}

func TestFamilyErrors(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"unknown field", "[feed.mine]\ncolour = \"red\"\n", "unknown key feed.mine.colour"},
		{"bad member name", "[feed.My_List]\nurl = \"https://x.example/\"\n", "unknown key feed.My_List "},
		{"bad format", "[feed.mine]\nformat = \"csv\"\n", `feed.mine.format: "csv" in`},
		{"plain http", "[feed.mine]\nurl = \"http://lists.example/x\"\n", "feed.mine.url: \"http://lists.example/x\" is plain http to another machine"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := testPaths(t)
			writeConfig(t, p, c.text)
			_, err := LoadSettings(p, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("LoadSettings: %v, want %q", err, c.want)
			}
		})
	}
	// Loopback needs no TLS, and insecure_transport allows the rest.
	p := testPaths(t)
	writeConfig(t, p, "insecure_transport = true\n[feed.mine]\nurl = \"http://lists.example/x\"\n[feed.local]\nurl = \"http://127.0.0.1:8080/x\"\n")
	if _, err := LoadSettings(p, nil); err != nil {
		t.Fatal(err)
	}
}

// `ksn config set/unset` reach family members like fixed keys; unsetting
// the last field of a member removes its table, and so the member.
func TestSetFamilyMember(t *testing.T) {
	p := testPaths(t)
	if err := SetSetting(p, "feed.mine.url", "https://lists.example/a/"); err != nil {
		t.Fatal(err)
	}
	if err := SetSetting(p, "feed.mine.format", "known-good"); err != nil {
		t.Fatal(err)
	}
	if err := SetSetting(p, "feed.mine.url", "http://lists.example/a"); err == nil || !strings.Contains(err.Error(), "insecure_transport") {
		t.Errorf("plain http accepted: %v", err)
	}
	if err := SetSetting(p, "feed.Mine.url", "https://x.example/"); err == nil || !strings.Contains(err.Error(), "unknown setting") {
		t.Errorf("bad member name: %v", err)
	}
	if err := SetSetting(p, "feed.mine.format", "zip"); err == nil || !strings.Contains(err.Error(), "is not one of auto, malwarebazaar") {
		t.Errorf("bad format: %v", err)
	}
	s := mustLoad(t, p, nil)
	if s.String("feed.mine.url") != "https://lists.example/a/" || s.String("feed.mine.format") != "known-good" {
		t.Fatalf("after set: %v", s.List())
	}
	for _, k := range []string{"feed.mine.url", "feed.mine.format"} {
		if err := UnsetSetting(p, k); err != nil {
			t.Fatal(err)
		}
	}
	s = mustLoad(t, p, nil)
	if slices.Contains(s.Members("feed"), "mine") {
		t.Errorf("mine still a member: %v", s.Members("feed"))
	}
	b, err := os.ReadFile(s.File())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "mine") {
		t.Errorf("file still names mine:\n%s", b)
	}
}

func TestNormalizeBaseURL(t *testing.T) {
	if got, err := NormalizeBaseURL(" https://opentip.example/ "); err != nil || got != "https://opentip.example" {
		t.Errorf("NormalizeBaseURL = %q, %v", got, err)
	}
	for _, bad := range []string{"ftp://x.example", "https://u:p@x.example", "https://x.example/?q=1", "x.example"} {
		if _, err := NormalizeBaseURL(bad); err == nil {
			t.Errorf("NormalizeBaseURL(%q) accepted", bad)
		}
	}
}

func TestValidMemberName(t *testing.T) {
	for _, ok := range []string{"a", "my-list", "urlhaus-recent", "x1"} {
		if !ValidMemberName(ok) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"", "1x", "My", "a_b", "a.b", strings.Repeat("a", 33)} {
		if ValidMemberName(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
