package cli

import (
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/term"
)

func TestReadLinks(t *testing.T) {
	ios, in, _, _ := term.Test()
	in.WriteString("# a comment\n\n  http://a.example/x  \nmailto:x@y.z\n" + strings.Repeat("x", 10) + ".example\n")
	links, err := collectLinks(&URLOptions{IO: ios, Links: []string{"HTTP://B.example", "-", "http://[bad"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ input, url, err string }{
		{"HTTP://B.example", "http://b.example/", ""},
		{"http://a.example/x", "http://a.example/x", ""},
		{"mailto:x@y.z", "", "not a URL with a host"},
		{"xxxxxxxxxx.example", "http://xxxxxxxxxx.example/", ""},
		{"http://[bad", "", "invalid host"},
	}
	if len(links) != len(want) {
		t.Fatalf("%d links, want %d: %+v", len(links), len(want), links)
	}
	for i, w := range want {
		l := links[i]
		if l.Input != w.input || l.Canonical.URL != w.url || (w.err == "") != (l.Err == nil) ||
			l.Err != nil && (!strings.Contains(l.Err.Error(), w.err) || strings.HasPrefix(l.Err.Error(), "urlcanon:")) {
			t.Errorf("link %d = %q %q %v; want %q %q %q", i, l.Input, l.Canonical.URL, l.Err, w.input, w.url, w.err)
		}
		if l.Err == nil && len(l.Lookup.Entries) == 0 {
			t.Errorf("link %d has no expressions", i)
		}
	}
}

// TestLinkRecordsAreRedacted: what a link's record carries is its redacted
// form, whatever the link held.
func TestLinkRecordsAreRedacted(t *testing.T) {
	ios, _, _, _ := term.Test()
	links, err := collectLinks(&URLOptions{IO: ios, Links: []string{
		"https://jane:hunter2@Mail.Example.com:8443/u/jane.doe@example.com/inbox/550e8400-e29b-41d4-a716-446655440000?token=s3cr3t#m1",
		"http://[bad",
	}})
	if err != nil {
		t.Fatal(err)
	}
	links[0].Result = reputation.Result{Verdict: reputation.Suspicious}
	recs := linkRecords(links)
	if len(recs) != 1 {
		t.Fatalf("%d records, want one (the malformed link has none)", len(recs))
	}
	body := string(recs[0].Body)
	if want := `{"url":"https://mail.example.com/u/{email}/inbox/{uuid}","verdict":"suspicious","check_ms":0}`; body != want {
		t.Fatalf("record body %s, want %s", body, want)
	}
	for _, secret := range []string{"jane", "hunter2", "8443", "s3cr3t", "token", "m1", "550e8400"} {
		if strings.Contains(body, secret) {
			t.Errorf("record holds %q: %s", secret, body)
		}
	}
}

func collectLinks(opts *URLOptions) ([]link, error) {
	var links []link
	err := readLinks(opts, func(l link) error { links = append(links, l); return nil })
	return links, err
}

// TestReadLinksLongLine: a line over the limit is one input error, and the
// lines after it are still read.
func TestReadLinksLongLine(t *testing.T) {
	ios, in, _, _ := term.Test()
	in.WriteString("http://a.example/\ndata:" + strings.Repeat("x", maxLinkLength+10) + "\r\nhttp://b.example/")
	links, err := collectLinks(&URLOptions{IO: ios, Links: []string{"-"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 3 || links[0].Err != nil || links[2].Err != nil || links[2].Canonical.URL != "http://b.example/" {
		t.Fatalf("links %+v", links)
	}
	if links[1].Input != "(line 2)" || links[1].Err == nil || !strings.Contains(links[1].Err.Error(), "longer than 64 KiB") {
		t.Fatalf("long line: %+v", links[1])
	}
}
