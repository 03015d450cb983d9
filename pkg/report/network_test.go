package report

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/mail"
	"github.com/ksnproject/ksn/pkg/network"
	"github.com/ksnproject/ksn/pkg/term"
)

// TestStatusColumnsAligned: on a colour terminal the values start in one
// column; padding must not count the colour codes.
func TestStatusColumnsAligned(t *testing.T) {
	ios, _, out, _ := term.Test()
	ios.ForceColor()
	r := network.Report{Endpoint: "https://ksn.example", InsecureTransport: true}
	r.Connected = true
	r.Outbox.Records = 1
	r.Statement.ID, r.Statement.Source = "ksn-0123456789abcdef", "built-in"
	_ = Status(ios, r, false)
	ansi := regexp.MustCompile(`\x1b\[[0-9;]*m`)
	if !ansi.MatchString(out.String()) {
		t.Fatalf("no colour codes in the output: the test shows nothing\n%q", out)
	}
	lines := strings.Split(strings.TrimSpace(ansi.ReplaceAllString(out.String(), "")), "\n")
	if len(lines) < 5 {
		t.Fatalf("status printed %d lines:\n%s", len(lines), out)
	}
	for _, l := range lines {
		if len(l) < 16 || l[14] != ' ' || l[15] == ' ' {
			t.Errorf("value not at column 16: %q", l)
		}
	}
	if !strings.Contains(out.String(), "1 record,") {
		t.Errorf("plural: %s", out)
	}
}

// TestStatusLines: what each part of the report adds, a source's detail
// escaped.
func TestStatusLines(t *testing.T) {
	ios, _, out, _ := term.Test()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := network.Report{Statement: network.StatementState{ID: "ksn-1", Source: "https://ksn.example", AcceptedAt: &at}}
	r.Reason, r.Detail = "offline", "connection refused"
	r.Sources = []network.SourceStatus{{State: "service-error", Detail: "bad\x1b[2J"}, {}}
	r.Sources[0].Name, r.Sources[0].Enabled, r.Sources[1].Name = "opentip", true, "hashlookup"
	_ = Status(ios, r, false)
	for _, want := range []string{
		"Statement      ksn-1 (https://ksn.example), accepted 2026-03-01 12:00:00 UTC\n",
		"Endpoint       none\n",
		"Connection     offline (connection refused)\n",
		`Source         opentip: service-error: bad\x1b[2J` + "\n",
		"Sources        not configured: hashlookup (ksn source enable NAME)\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}

// TestStatusExit: a network that cannot be used decides the exit, with
// the reason and its hint; in JSON silently, the object says it.
func TestStatusExit(t *testing.T) {
	r := network.Report{}
	r.Reason, r.Detail, r.Hint, r.Code = "offline", "connection refused", "check the endpoint", exitcode.Offline
	ios, _, out, _ := term.Test()
	err := Status(ios, r, false)
	var e *exitcode.Error
	if !errors.As(err, &e) || e.Code != exitcode.Offline || e.Silent || err.Error() != "offline: connection refused" || e.Hint != "check the endpoint" {
		t.Errorf("text: %#v", err)
	}
	out.Reset()
	err = Status(ios, r, true)
	if !errors.As(err, &e) || e.Code != exitcode.Offline || !e.Silent || !strings.Contains(out.String(), `"reason":"offline"`) {
		t.Errorf("json: %#v, %s", err, out)
	}
	r.Code, r.Connected = exitcode.OK, true
	if err := Status(ios, r, true); err != nil {
		t.Errorf("connected: %v", err)
	}
}

func TestSourcesTable(t *testing.T) {
	ios, _, out, _ := term.Test()
	s := network.SourceStatus{State: "connected"}
	s.Name, s.Enabled, s.KeyStored, s.BaseURL = "opentip", true, true, "https://mirror.example/\x1b]8;;"
	if err := Sources(ios.Out, []network.SourceStatus{s}, false); err != nil {
		t.Fatal(err)
	}
	want := "NAME     ENABLED  KEY     URL                              STATE\nopentip  true     stored  https://mirror.example/\\x1b]8;;  connected\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out, want)
	}
}

func TestOutboxAndRecords(t *testing.T) {
	ios, _, out, _ := term.Test()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	Outbox(ios.Out, network.OutboxSummary{Records: 2, Bytes: 300, MaxRecords: 1000, MaxAge: "90d", Oldest: &at, Newest: &at, DroppedAge: 1, File: "/s/participation.db"},
		network.Status{Reason: "never-asked"}, false)
	want := "2 records, 300 B (at most 1000, kept up to 90d)\noldest 2026-03-01 12:00:00 UTC, newest 2026-03-01 12:00:00 UTC\ndropped: 0 when full, 1 too old\nnot participating: never asked: /s/participation.db\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out, want)
	}
	rec := network.Record{ID: "0123", Kind: "url", CreatedAt: at, Body: json.RawMessage(`{"url":"http://x.example/\u001b"}`)}
	for _, c := range []struct {
		json bool
		want string
	}{
		{false, `0123  url     2026-03-01T12:00:00Z  {"url":"http://x.example/\u001b"}` + "\n"},
		{true, `{"id":"0123","kind":"url","created_at":"2026-03-01T12:00:00Z","body":{"url":"http://x.example/\u001b"}}` + "\n"},
	} {
		out.Reset()
		if err := Record(ios.Out, rec, c.json); err != nil || out.String() != c.want {
			t.Errorf("json %v: got %q (%v), want %q", c.json, out, err, c.want)
		}
	}
	out.Reset()
	rec.Body = json.RawMessage("\"a\x1b[2Jb\"")
	if err := Record(ios.Out, rec, false); err != nil || !strings.Contains(out.String(), `a\x1b[2Jb`) || strings.Contains(out.String(), "\x1b") {
		t.Errorf("a raw control character in a body: %q (%v)", out, err)
	}
}

// TestStatementEscaped: what is accepted must be what was shown: control
// characters are shown escaped, line breaks and tabs kept.
func TestStatementEscaped(t *testing.T) {
	ios, _, out, _ := term.Test()
	st := network.Statement{ID: "ksn-1\x1b", Source: "built-in", SHA256: "ab", Text: "We collect\tdigests.\nNothing\r else\x1b[8m hidden.\n"}
	if err := Statement(ios, st, false); err != nil {
		t.Fatal(err)
	}
	want := "Statement ksn-1\\x1b (built-in)\nsha256 ab\n\nWe collect\tdigests.\nNothing\\r else\\x1b[8m hidden.\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out, want)
	}
}

func TestOptedInAndOut(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	accepted := network.Decision{At: at, Accepted: true, Level: network.Extended, StatementID: "ksn-1"}
	declined := network.Decision{At: at}
	cases := []struct {
		name        string
		write       func(ios *term.IOStreams)
		out, errOut string
	}{
		{"declined", func(ios *term.IOStreams) { OptedIn(ios, network.Outcome{Decision: &declined}, "", "90d", false) },
			"Declined at 2026-03-01 12:00:00 UTC. Nothing is sent; ksn keeps working with local verdicts.\n", ""},
		{"accepted and sent", func(ios *term.IOStreams) {
			OptedIn(ios, network.Outcome{Decision: &accepted, Dropped: 1, Sent: 2, Now: network.Status{Participating: true}}, "https://ksn.example", "90d", false)
		}, "Participating at the extended level since 2026-03-01 12:00:00 UTC (statement ksn-1).\n1 record older than 90d dropped, not sent.\nSent 2 collected records to https://ksn.example.\nNothing is waiting to be sent.\n", ""},
		{"accepted, paused", func(ios *term.IOStreams) {
			OptedIn(ios, network.Outcome{Decision: &accepted, Outbox: 3, SendError: "offline", Now: network.Status{Reason: "do-not-track"}}, "https://ksn.example", "90d", false)
		}, "Participating at the extended level since 2026-03-01 12:00:00 UTC (statement ksn-1).\n3 records in the outbox will be sent to https://ksn.example.\n",
			"ksn: warning: the collected records could not be sent yet (offline); they stay in the outbox and go with the next check\nksn: warning: paused: DO_NOT_TRACK is set: nothing is sent while it is set\n"},
		{"opted out", func(ios *term.IOStreams) {
			OptedOut(ios.Out, network.Outcome{Decision: &declined, Outbox: 1}, false, false)
		},
			"Not participating since 2026-03-01 12:00:00 UTC: nothing is sent.\n1 record stay in the local outbox ('ksn queue' shows them, 'ksn optout --purge' or 'ksn queue clear' deletes them).\n", ""},
		{"opted out, purged", func(ios *term.IOStreams) {
			OptedOut(ios.Out, network.Outcome{Decision: &declined, Purged: 4}, true, false)
		},
			"Not participating since 2026-03-01 12:00:00 UTC: nothing is sent.\nDeleted 4 records from the local outbox.\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ios, _, out, errOut := term.Test()
			c.write(ios)
			if out.String() != c.out || errOut.String() != c.errOut {
				t.Errorf("got\n%q\n%q\nwant\n%q\n%q", out, errOut, c.out, c.errOut)
			}
		})
	}
}

func TestPluralAndTime(t *testing.T) {
	for n, want := range map[int]string{0: "0 directories", 1: "1 directory", 2: "2 directories"} {
		if got := Plural(n, "directory"); got != want {
			t.Errorf("Plural(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Plural(2, "key"); got != "2 keys" {
		t.Errorf("Plural(2, key) = %q", got)
	}
	if got := Time(time.Time{}); got != "-" {
		t.Errorf("Time(zero) = %q", got)
	}
	if got := Time(time.Date(2026, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600))); got != "2026-03-01 12:00:00 UTC" {
		t.Errorf("Time = %q", got)
	}
}

func TestSourceEnabled(t *testing.T) {
	var w strings.Builder
	cfg := network.SourceConfig{BaseURL: "https://mirror.example/\x1b", KeyStored: true}
	cfg.Name, cfg.Title = "opentip", "Kaspersky OpenTIP"
	SourceEnabled(&w, cfg, false)
	want := "enabled opentip: Kaspersky OpenTIP at https://mirror.example/\\x1b\n" +
		"While you participate, ksn sends it the SHA-256 of each file you check (never names, paths, contents or links), with your key; the statement names it ('ksn statement').\n" +
		"You do not participate now: it is not asked until you accept the statement (ksn optin).\n"
	if w.String() != want {
		t.Errorf("got\n%q\nwant\n%q", w.String(), want)
	}
}

func TestLicense(t *testing.T) {
	for _, c := range []struct {
		l    network.LicenseInfo
		json bool
		want string
	}{
		{network.LicenseInfo{}, false, "No license key: activate one with 'ksn license activate <key>'.\n"},
		{network.LicenseInfo{Activated: true, Key: "ksn_0123…cdef", Source: "env KSN_LICENSE_KEY"}, false, "License key ksn_0123…cdef (from env KSN_LICENSE_KEY)\n"},
		{network.LicenseInfo{Activated: true, Key: "k", Source: "/s/license.key"}, true, `{"activated":true,"key":"k","source":"/s/license.key"}` + "\n"},
	} {
		var w strings.Builder
		if err := License(&w, c.l, c.json); err != nil || w.String() != c.want {
			t.Errorf("%+v: %q (%v), want %q", c.l, w.String(), err, c.want)
		}
	}
}

func TestRecords(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	recs := []network.Record{{ID: "01", Kind: "file", CreatedAt: at, Body: json.RawMessage(`{}`)}, {ID: "02", Kind: "url", CreatedAt: at, Body: json.RawMessage(`{}`)}}
	read := func(_ context.Context, fn func(network.Record) error) error {
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
	var w strings.Builder
	if err := Records(context.Background(), &w, false, read); err != nil {
		t.Fatal(err)
	}
	if want := "01  file    2026-03-01T12:00:00Z  {}\n02  url     2026-03-01T12:00:00Z  {}\n"; w.String() != want {
		t.Errorf("got %q, want %q", w.String(), want)
	}
	fail := func(context.Context, func(network.Record) error) error { return errors.New("outbox gone") }
	if err := Records(context.Background(), &w, true, fail); err == nil || err.Error() != "outbox gone" {
		t.Errorf("a failed read: %v", err)
	}
}

func TestOneLiners(t *testing.T) {
	cases := []struct {
		name        string
		write       func(ios *term.IOStreams) error
		out, errOut string
		code        exitcode.Code
	}{
		{"source disabled", func(ios *term.IOStreams) error { SourceDisabled(ios.Out, "opentip", true); return nil },
			"disabled opentip; its key is deleted and it is sent nothing more\n", "", exitcode.OK},
		{"source not enabled", func(ios *term.IOStreams) error { SourceDisabled(ios.Out, "opentip", false); return nil },
			"opentip was not enabled\n", "", exitcode.OK},
		{"mail judged", func(ios *term.IOStreams) error { return MailJudged(ios.Out, 2, 1, 0, mail.JudgementSpam) },
			"2 messages judged spam; 1 record kept in the outbox.\n", "", exitcode.OK},
		{"mail unreadable", func(ios *term.IOStreams) error { return MailJudged(ios.Out, 0, 0, 1, mail.JudgementHam) },
			"0 messages judged ham; 0 records kept in the outbox.\n", "", exitcode.Usage},
		{"database created", func(ios *term.IOStreams) error { DatabaseReady(ios.Out, "/srv/s.db", true); return nil },
			"created the server database /srv/s.db\n", "", exitcode.OK},
		{"database up to date", func(ios *term.IOStreams) error { DatabaseReady(ios.Out, "/srv/s.db", false); return nil },
			"the server database /srv/s.db is up to date\n", "", exitcode.OK},
		{"setting overridden", func(ios *term.IOStreams) error {
			SettingSet(ios, config.Value{Key: config.Key{Name: "timeout"}, Value: "5s", Source: "env KSN_TIMEOUT"})
			return nil
		}, "timeout = 5s\n", "ksn: warning: timeout is overridden by env KSN_TIMEOUT\n", exitcode.OK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ios, _, out, errOut := term.Test()
			err := c.write(ios)
			if out.String() != c.out || errOut.String() != c.errOut || exitcode.Of(err) != c.code {
				t.Errorf("got %q, %q, %v", out, errOut, err)
			}
		})
	}
}
