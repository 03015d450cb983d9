package report

import (
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/linkcheck"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/term"
)

// readLink is raw as the link check reads it, with result r.
func readLink(t *testing.T, raw string, r reputation.Result) linkcheck.Link {
	t.Helper()
	var l linkcheck.Link
	if err := linkcheck.Read([]string{raw}, nil, func(got linkcheck.Link) error { l = got; return nil }); err != nil {
		t.Fatal(err)
	}
	l.Result = r
	return l
}

func TestLinks(t *testing.T) {
	bad := reputation.Result{Verdict: reputation.Malicious, ThreatName: "Phish\x1b[1m", Sources: []string{"urlhaus"}, Prevalence: 2}
	unknown := reputation.Result{Verdict: reputation.Unknown}
	cases := []struct {
		name      string
		o         LinkOptions
		raw       string
		r         reputation.Result
		want, not []string
	}{
		{"verdict line", LinkOptions{}, "HTTP://Evil.Example/a/../b#x", bad,
			[]string{"MALICIOUS  http://evil.example/b  Phish\\x1b[1m  (urlhaus)  · seen by 2 participants\n"}, []string{"canonical"}},
		{"not a link, escaped", LinkOptions{}, "\x1b]8;;x", unknown, []string{"ERROR      \\x1b]8;;x  "}, []string{"\x1b]"}},
		{"quiet hides unknown", LinkOptions{Quiet: true, FailOn: reputation.Malicious}, "http://a.example/", unknown, nil, []string{"a.example"}},
		{"quiet hides errors", LinkOptions{Quiet: true, FailOn: reputation.Malicious}, "::", unknown, nil, []string{"ERROR"}},
		{"explain", LinkOptions{Explain: true}, "http://user:pw@Example.COM:8080/a?token=1#top", unknown, []string{
			"  canonical   http://example.com/a?token=1\n",
			"  removed     user name and password, port 8080, fragment (never used, never sent)\n",
			"  (local: it holds a query or a token)\n",
			"  lookup      would send ",
			"  submission  would carry http://example.com/",
		}, []string{"pw"}},
		{"explain a private link", LinkOptions{Explain: true}, "http://192.168.1.1/admin", unknown,
			[]string{"  submission  none: a link to a private network is never recorded\n"}, nil},
		{"json", LinkOptions{JSON: true}, "http://evil.example/", bad, []string{`"verdict":"malicious"`, "}\n"}, []string{"MALICIOUS"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ios, _, out, _ := term.Test()
			if err := NewLinks(ios, c.o).Batch([]linkcheck.Link{readLink(t, c.raw, c.r)}); err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("out %q, want %q", out, w)
				}
			}
			for _, n := range c.not {
				if strings.Contains(out.String(), n) {
					t.Errorf("out %q holds %q", out, n)
				}
			}
			if len(c.want) == 0 && out.Len() > 0 {
				t.Errorf("out %q, want nothing", out)
			}
		})
	}
}

func TestLinksFinish(t *testing.T) {
	ios, _, _, _ := term.Test()
	p := NewLinks(ios, LinkOptions{})
	for _, c := range []struct {
		sum  linkcheck.Summary
		code exitcode.Code
	}{
		{linkcheck.Summary{}, exitcode.OK},
		{linkcheck.Summary{Failed: 2}, exitcode.Usage},
		{linkcheck.Summary{Threats: 1, Failed: 1}, exitcode.Threat},
	} {
		if err := p.Finish(c.sum); exitcode.Of(err) != c.code {
			t.Errorf("%+v: %v, want exit %v", c.sum, err, c.code)
		}
	}
	if err := p.Finish(linkcheck.Summary{Failed: 2}); err == nil || err.Error() != "2 links could not be checked" {
		t.Errorf("got %v", err)
	}
}
