package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/server"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/term"
)

// TestServerTables: each text form of the server's reports, with the
// strings a client or a feed chose (a license label, a feed's source)
// escaped.
func TestServerTables(t *testing.T) {
	day := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	exp := day.Add(90 * 24 * time.Hour)
	purge := server.PurgeReport{Kept: []server.KeptHalfYear{{HalfYear: "2026H1", Records: 4, PurgeAfter: day}}}
	purge.Purged, purge.Checkpointed = []store.PurgedHalfYear{{HalfYear: "2025H2", Records: 7, ObjectRows: 2}}, true
	stats := server.StatsReport{DB: "/srv/server.db", Licenses: 2, Submissions: 9,
		Sealed:     []server.HeldHalfYear{{HalfYear: "2026H1", Records: 9, Ends: exp}},
		Indicators: map[string]int{"urlhaus": 3, "feed\x1b[31m": 1}, Links: map[string]int{}, Restricted: &exp}
	stats.Aggregates.Kinds = map[string]int64{"file": 5, "url": 1}
	stats.Aggregates.Objects = map[string]int64{"file": 2}
	stats.Aggregates.TopObjects = []store.ObjectStat{{Participants: 3, Reports: 4, FirstSeen: day, LastSeen: day, Kind: "file", Object: []byte{0xab, 0xcd}}}
	cases := []struct {
		name  string
		write func(w *bytes.Buffer) error
		want  []string
	}{
		{"licenses", func(w *bytes.Buffer) error {
			return Licenses(w, []server.LicenseStatus{
				{ID: 1, Label: "farm\x1b]0;x\a", State: server.LicenseValid, Seats: 12, CreatedAt: day, ExpiresAt: &exp},
				{ID: 2, State: server.LicenseDenylisted, Seats: 1, CreatedAt: day}}, false)
		}, []string{"ID  STATE       SEATS  CREATED               EXPIRES               LABEL\n",
			"1   valid       12     2026-03-01T12:00:00Z  2026-05-30T12:00:00Z  farm\\x1b]0;x\\a\n",
			"2   denylisted  1      2026-03-01T12:00:00Z  never                 \n"}},
		{"purge", func(w *bytes.Buffer) error { return Purge(streams(w), purge, 3, false) }, []string{
			"2025H2: data key destroyed, 7 sealed records deleted, 2 per-object counts of fewer than 3 participants deleted\n",
			"2026H1: 4 sealed records kept until 2026-03-01T12:00:00Z\n"}},
		{"nothing to purge, not checkpointed", func(w *bytes.Buffer) error { return Purge(streams(w), server.PurgeReport{}, 3, false) }, []string{
			"ksn: warning: a reader keeps destroyed rows in the database's files", "nothing to purge\n"}},
		{"verify", func(w *bytes.Buffer) error {
			err := Verify(streams(w), server.VerifyReport{HalfYears: []store.SealedHalfYear{{HalfYear: "2026H1", Records: 5, Opened: 4}}, KEKFile: "/k"}, false)
			if exitcode.Of(err) != exitcode.ServiceError {
				t.Errorf("a record that does not open: %v", err)
			}
			return nil
		}, []string{"HALF-YEAR  RECORDS  OPEN\n2026H1     5        4\n"}},
		{"verified", func(w *bytes.Buffer) error {
			return Verify(streams(w), server.VerifyReport{OK: true, KEKFile: "/k"}, false)
		}, []string{"HALF-YEAR  RECORDS  OPEN\n", "ksn: every sealed submission opens with /k\n"}},
		{"stats", func(w *bytes.Buffer) error { return Stats(w, stats, false) }, []string{
			"database     /srv/server.db\nlicenses     2\nsubmissions  9\n",
			"sealed       2026H1: 9 records (the half-year ends 2026-05-30)\n",
			"indicators   1 (feed\\x1b[31m)\nindicators   3 (urlhaus)\n",
			"files        restricted until 2026-05-30T12:00:00Z\n",
			"records received  file 5, url 1, system 0 (distinct: 2 files, 0 links)\n",
			"PARTICIPANTS  REPORTS  FIRST SEEN  LAST SEEN   KIND  OBJECT\n3             4        2026-03-01  2026-03-01  file  abcd\n"}},
		{"spam", func(w *bytes.Buffer) error {
			return SpamStats(w, []server.SpamStat{{Object: "ab12", Participants: 2, Reports: 3, Spam: 1, FirstSeen: day, LastSeen: day}}, nil, false)
		}, []string{"PARTICIPANTS  REPORTS  SPAM  HAM  FIRST SEEN  LAST SEEN   BODY SHA-256\n2             3        1     0    2026-03-01  2026-03-01  ab12\n",
			"no sender networks reported\n"}},
		{"listening", func(w *bytes.Buffer) error {
			Listening(w, server.Listening{URL: "http://127.0.0.1:7415", DB: "/d/s.db", KEKFile: "/k/s.kek", KEKCreated: true, KeyDir: "/k/keys"})
			return nil
		}, []string{"ksn serve: listening on http://127.0.0.1:7415 (database /d/s.db)\n",
			"ksn serve: created the key-encryption key /k/s.kek: keep it safe",
			"ksn serve: data keys in /k/keys (never back it up: a purge deletes keys there)\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var w bytes.Buffer
			if err := c.write(&w); err != nil {
				t.Fatal(err)
			}
			for _, want := range c.want {
				if !strings.Contains(w.String(), want) {
					t.Errorf("got\n%s\nwant it to hold\n%s", w.String(), want)
				}
			}
			if strings.Contains(w.String(), "\x1b") {
				t.Errorf("an escape sequence got through:\n%q", w.String())
			}
		})
	}
}

// TestLicenseCreated: the key alone on standard output, for scripts; the
// rest on standard error.
func TestLicenseCreated(t *testing.T) {
	ios, _, out, errOut := term.Test()
	_ = LicenseCreated(ios, server.LicenseStatus{ID: 4, Key: "ksn_k", Seats: 3}, false)
	if out.String() != "ksn_k\n" {
		t.Errorf("out %q", out)
	}
	if want := "ksn: license 4 created (expires never, 3 seats); the key above is shown only now\nksn: hint: on the client: ksn license activate <key>\n"; errOut.String() != want {
		t.Errorf("errOut %q, want %q", errOut, want)
	}
}

// streams writes both output streams to w, in order.
func streams(w *bytes.Buffer) *term.IOStreams {
	ios, _, _, _ := term.Test()
	ios.Out, ios.ErrOut = w, w
	return ios
}
