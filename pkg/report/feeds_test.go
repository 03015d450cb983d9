package report

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/feeds"
	"github.com/ksnproject/ksn/pkg/term"
)

func TestFeedLines(t *testing.T) {
	imported := feeds.Imported{Format: feeds.Format("malwarebazaar"), Elapsed: time.Second}
	imported.Summary = feeds.Summary{Indicators: 1, Malformed: 3, Errors: []feeds.LineError{{Line: 7, Err: errors.New("bad\x1b[2Jdigest")}}}
	imported.Stats.Added = 1
	cvd := feeds.Imported{Format: feeds.Format("clamav-cvd"), CVD: &feeds.CVDInfo{
		Header:      feeds.CVDHeader{Version: 27, Built: "01 Mar 2026", Builder: "svc", Signatures: 2, Level: 90},
		MD5Verified: true, SignatureVerified: true,
		Members: []feeds.CVDMember{{Name: "daily.hdb", Summary: feeds.Summary{Indicators: 2}}}, Skipped: map[string]int{".ndb": 4}}}
	cases := []struct {
		name        string
		write       func(ios *term.IOStreams)
		out, errOut []string
	}{
		{"import", func(ios *term.IOStreams) { Imported(ios, "feed\x1b]0;x\a.csv", imported) }, []string{
			`feed\x1b]0;x\a.csv (malwarebazaar): 1 indicator: 1 added, 0 updated, 0 unchanged in 1.00s` + "\n"}, []string{
			`ksn: warning: feed\x1b]0;x\a.csv: 3 malformed lines skipped` + "\n",
			`  line 7: bad\x1b[2Jdigest` + "\n", "  ... and 2 more\n"}},
		{"a ClamAV container", func(ios *term.IOStreams) { Imported(ios, "daily.cvd", cvd) }, []string{
			"  ClamAV database version 27, built 01 Mar 2026 by svc, 2 signatures, functionality level 90: signature verified with ClamAV's key, MD5 matches\n",
			"  read daily.hdb: 2 entries\n", "  skipped: 4 .ndb (not whole-file hashes)\n"}, nil},
		{"update failed", func(ios *term.IOStreams) {
			update(ios, feeds.UpdateResult{Feed: feeds.Feed{Name: "mb"}, Outcome: feeds.Failed, Err: &feeds.UpdateError{Reason: "offline", Err: errors.New("no route\r")}})
		}, []string{`mb: failed: no route\r` + "\n"}, nil},
		{"update not modified", func(ios *term.IOStreams) {
			update(ios, feeds.UpdateResult{Feed: feeds.Feed{Name: "mb"}, Outcome: feeds.Unchanged, NotModified: true, Imported: &feeds.Imported{Summary: feeds.Summary{Indicators: 5}}})
		}, []string{"mb: unchanged: not modified since the last update (5 indicators)\n"}, nil},
		{"update added", func(ios *term.IOStreams) {
			update(ios, feeds.UpdateResult{Feed: feeds.Feed{Name: "mb"}, Outcome: feeds.Added, Bytes: 2048, Elapsed: time.Second, Imported: &imported})
		}, []string{"mb: added: 1 indicator (1 new, 0 changed, 0 unchanged) from 2.0 KiB in 1.00s\n"}, []string{"ksn: warning: mb: 3 malformed lines skipped\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ios, _, out, errOut := term.Test()
			c.write(ios)
			for _, w := range c.out {
				if !strings.Contains(out.String(), w) {
					t.Errorf("out %q, want %q", out, w)
				}
			}
			for _, w := range c.errOut {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("errOut %q, want %q", errOut, w)
				}
			}
			if len(c.errOut) == 0 && errOut.Len() > 0 {
				t.Errorf("errOut %q, want nothing", errOut)
			}
		})
	}
}

func TestFeedsTable(t *testing.T) {
	ios, _, out, _ := term.Test()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	age := int64(3 * 24 * 3600)
	err := Feeds(ios, []feeds.Entry{
		{Feed: feeds.Feed{Name: "mb", Format: "malwarebazaar", URL: "https://x.example/\x1b[1m", Enabled: true}, UpdatedAt: &at, CheckedAt: &at, AgeSeconds: &age, Stale: true, ETag: `"e1"`, Indicators: 9},
		{Feed: feeds.Feed{Name: "off", Format: "url-list", URL: "https://y.example/"}},
		{Feed: feeds.Feed{Name: "broken", Format: "url-list", URL: "https://z.example/", Enabled: true}, LastError: "503\x07"},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if !strings.HasPrefix(lines[0], "NAME    FORMAT         STATE     UPDATED") {
		t.Errorf("header %q", lines[0])
	}
	for _, want := range []string{"stale", "3d", `"e1"`, `https://x.example/\x1b[1m`, "off     url-list       disabled  never             -", "failed",
		`last update failed: broken: 503\a`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestFeedNotice(t *testing.T) {
	for _, c := range []struct {
		n    feeds.Notice
		want string
	}{
		{feeds.Notice{Kind: feeds.Warning, Text: "the feeds are 9 days old"}, "ksn: warning: the feeds are 9 days old\n"},
		{feeds.Notice{Kind: feeds.Hint, Text: "run ksn feed update"}, "ksn: hint: run ksn feed update (shown once)\n"},
		{feeds.Notice{}, ""},
	} {
		ios, _, out, errOut := term.Test()
		FeedNotice(ios, c.n)
		if errOut.String() != c.want || out.Len() > 0 {
			t.Errorf("%+v: %q, want %q", c.n, errOut, c.want)
		}
	}
}

func TestUpdatesJSON(t *testing.T) {
	ios, _, out, _ := term.Test()
	results := []feeds.UpdateResult{{Feed: feeds.Feed{Name: "mb"}, Outcome: feeds.Unchanged, NotModified: true, Imported: &feeds.Imported{}}}
	if err := Updates(ios, results, true); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), `[{"feed":"mb","outcome":"unchanged","not_modified":true,`) || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("got %q", out)
	}
}

// TestImports: a failure is said on standard error and fails the run
// silently; in JSON every file is in one array, the failures too.
func TestImports(t *testing.T) {
	res := feeds.Imported{Format: feeds.URLList}
	res.Summary.Indicators = 2
	for _, asJSON := range []bool{false, true} {
		ios, _, out, errOut := term.Test()
		r := NewImports(ios, asJSON)
		r.Add("good.txt", res, nil)
		r.Add("bad\x1b.txt", feeds.Imported{}, errors.New("bad\x1b.txt: no such file"))
		err := r.Finish()
		if r.Failed != 1 || exitcode.Of(err) != exitcode.Usage {
			t.Errorf("json %v: failed %d, %v", asJSON, r.Failed, err)
		}
		if asJSON {
			if !strings.HasPrefix(out.String(), `[{"file":"good.txt","format":"url-list","indicators":2,`) ||
				!strings.Contains(out.String(), `{"file":"bad\u001b.txt","indicators":0,`) || errOut.Len() > 0 {
				t.Errorf("json: %q, %q", out, errOut)
			}
			continue
		}
		if !strings.HasPrefix(out.String(), "good.txt (url-list): 2 indicators: ") || errOut.String() != "ksn: bad\\x1b.txt: no such file\n" {
			t.Errorf("text: %q, %q", out, errOut)
		}
	}
	ios, _, out, _ := term.Test()
	if err := NewImports(ios, true).Finish(); err != nil || out.String() != "[]\n" {
		t.Errorf("nothing: %q, %v", out, err)
	}
}
