package linkcheck

import (
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/exitcode"
)

func collectLinks(inputs []string, stdin string) ([]Link, error) {
	var links []Link
	err := Read(inputs, strings.NewReader(stdin), func(l Link) error { links = append(links, l); return nil })
	return links, err
}
func TestReadLinks(t *testing.T) {
	stdin := "# a comment\n\n  http://a.example/x  \nmailto:x@y.z\n" + strings.Repeat("x", 10) + ".example\n"
	links, err := collectLinks([]string{"HTTP://B.example", "-", "http://[bad"}, stdin)
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

// TestReadLinksLongLine: a line over the limit is one input error, and the
// lines after it are still read.
func TestReadLinksLongLine(t *testing.T) {
	links, err := collectLinks([]string{"-"}, "http://a.example/\ndata:"+strings.Repeat("x", MaxLinkLength+10)+"\r\nhttp://b.example/")
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

func TestCheckInputs(t *testing.T) {
	for _, c := range []struct {
		inputs []string
		ok     bool
	}{
		{nil, true}, {[]string{"-"}, true}, {[]string{"a", "-", "b"}, true},
		{[]string{"-", "a", "-"}, false}, {[]string{"-", "-"}, false},
	} {
		err := CheckInputs(c.inputs)
		if (err == nil) != c.ok || !c.ok && (exitcode.Of(err) != exitcode.Usage || err.Error() != "'-' (standard input) may be given once") {
			t.Errorf("%q: %v", c.inputs, err)
		}
	}
}
