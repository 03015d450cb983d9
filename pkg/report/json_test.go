package report

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/buildinfo"
	"github.com/ksnproject/ksn/pkg/feeds"
	"github.com/ksnproject/ksn/pkg/network"
	"github.com/ksnproject/ksn/pkg/server"
	"github.com/ksnproject/ksn/pkg/term"
)

// TestJSONForms: given asJSON, each function writes its value as one line
// of JSON, as encoding/json makes it (the documented schemas are the
// types'), and nothing else, on either stream; hostile text stays data.
func TestJSONForms(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	d := network.Decision{At: at, Accepted: true, Level: network.Extended, StatementID: "ksn-1"}
	lic := server.LicenseStatus{ID: 1, Key: "ksn_k", Label: "farm\x1b[2J", State: server.LicenseValid, CreatedAt: at, Seats: 2}
	checkpointed := server.PurgeReport{}
	checkpointed.Checkpointed = true
	spam := []server.SpamStat{{Object: "ab", Participants: 1, FirstSeen: at, LastSeen: at}}
	cases := []struct {
		name  string
		write func(ios *term.IOStreams) error
		want  any
	}{
		{"license created", func(ios *term.IOStreams) error { return LicenseCreated(ios, lic, true) }, lic},
		{"licenses", func(ios *term.IOStreams) error { return Licenses(ios.Out, []server.LicenseStatus{lic}, true) }, []server.LicenseStatus{lic}},
		{"purge", func(ios *term.IOStreams) error { return Purge(ios, checkpointed, 3, true) }, checkpointed},
		{"verify", func(ios *term.IOStreams) error { return Verify(ios, server.VerifyReport{OK: true}, true) }, server.VerifyReport{OK: true}},
		{"stats", func(ios *term.IOStreams) error { return Stats(ios.Out, server.StatsReport{Licenses: 2}, true) }, server.StatsReport{Licenses: 2}},
		{"spam", func(ios *term.IOStreams) error { return SpamStats(ios.Out, spam, nil, true) },
			map[string]any{"bodies": spam, "nets": nil}},
		{"feeds", func(ios *term.IOStreams) error {
			return Feeds(ios, []feeds.Entry{{Feed: feeds.Feed{Name: "mb"}}}, true)
		},
			[]feeds.Entry{{Feed: feeds.Feed{Name: "mb"}}}},
		{"sources", func(ios *term.IOStreams) error {
			return Sources(ios.Out, []network.SourceStatus{{State: "connected"}}, true)
		},
			[]network.SourceStatus{{State: "connected"}}},
		{"outbox", func(ios *term.IOStreams) error {
			return Outbox(ios.Out, network.OutboxSummary{Records: 1, File: "/s/p.db"}, network.Status{}, true)
		}, network.OutboxSummary{Records: 1, File: "/s/p.db"}},
		{"statement", func(ios *term.IOStreams) error {
			return Statement(ios, network.Statement{ID: "ksn-1", Text: "a\x1b[8mb\n"}, true)
		}, network.Statement{ID: "ksn-1", Text: "a\x1b[8mb\n"}},
		{"opted in", func(ios *term.IOStreams) error {
			return OptedIn(ios, network.Outcome{Decision: &d, Sent: 2}, "e", "90d", true)
		},
			network.Outcome{Decision: &d, Sent: 2}},
		{"opted out", func(ios *term.IOStreams) error { return OptedOut(ios.Out, network.Outcome{Decision: &d}, true, true) },
			network.Outcome{Decision: &d}},
		{"version", func(ios *term.IOStreams) error { return Version(ios.Out, buildinfo.Info{Version: "1.0"}, true) }, buildinfo.Info{Version: "1.0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ios, _, out, errOut := term.Test()
			if err := c.write(ios); err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(c.want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), append(want, '\n')) || errOut.Len() > 0 {
				t.Errorf("out %s\nwant %s\nerrOut %q", out, want, errOut)
			}
		})
	}
}
