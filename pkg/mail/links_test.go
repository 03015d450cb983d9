package mail

import (
	"fmt"
	"go/build"
	"slices"
	"strings"
	"testing"
)

// links runs one body text through a scanner.
func links(text string, html bool, max int) *linkSet {
	b := newBodyText(max)
	sink := b.part(charsetUTF8, html)
	// In small pieces, so that links cross writes.
	for i := 0; i < len(text); i += 3 {
		sink.Write([]byte(text[i:min(i+3, len(text))]))
	}
	sink.Close()
	return &b.links
}

func TestPlainLinks(t *testing.T) {
	tests := []struct{ text, want string }{
		{"see https://example.com/a.", "https://example.com/a"},
		{"(see https://example.com/a_(b)), then", "https://example.com/a_(b)"},
		{"[https://example.com/x] and <http://example.org/y>", "https://example.com/x http://example.org/y"},
		{`"https://example.com/q?a=1&b=2"!`, "https://example.com/q?a=1&b=2"},
		{"HTTPS://EXAMPLE.COM/ and https://example.com/ again", "HTTPS://EXAMPLE.COM/"},
		{"url:https://example.com/x;", "https://example.com/x"},
		{"ftp://example.com/ mailto:a@example.com example.com/path http:// https:x", ""},
		{"httpſ://example.com/", ""},
		{"https://bücher.example/straße", "https://bücher.example/straße"},
		{"https://example.com/" + strings.Repeat("a", maxLinkLen) + " https://example.net/", "https://example.net/"},
	}
	for _, tt := range tests {
		got := links(tt.text, false, 10)
		if strings.Join(got.links, " ") != tt.want {
			t.Errorf("%.60q: links %q, want %q", tt.text, got.links, tt.want)
		}
	}
}

func TestHTMLLinks(t *testing.T) {
	tests := []struct{ html, want string }{
		{`<a href="https://example.com/a?x=1&amp;y=2">x</a>`, "https://example.com/a?x=1&y=2"},
		{`<A HREF='http://example.org/'>`, "http://example.org/"},
		{`<a href=https://example.net/x/>`, "https://example.net/x/"},
		{`<a class="x" href = " https://example.com/sp " title='a > b'>`, "https://example.com/sp"},
		{`<area shape=rect href="https://example.com/map"><link rel=icon href="https://example.com/i.ico">`, "https://example.com/map https://example.com/i.ico"},
		{`<a href="/relative"><a href="javascript:alert(1)"><a href="mailto:a@example.com"><a data-href="https://example.com/no">`, ""},
		{`text https://example.com/not-in-a-tag <a title="href=https://example.com/no">`, ""},
		{`<a href="https://example.com/&#x1b;[31m">`, ""},
		{`<a href="https://example.com/a" href="https://example.com/b">`, "https://example.com/a https://example.com/b"},
		{`<a href="https://example.com/unclosed`, ""},
	}
	for _, tt := range tests {
		got := links(tt.html, true, 10)
		if strings.Join(got.links, " ") != tt.want {
			t.Errorf("%.60q: links %q, want %q", tt.html, got.links, tt.want)
		}
	}
}

func TestLinksLimit(t *testing.T) {
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, "https://example.com/%d https://EXAMPLE.com/%d\n", i, i)
	}
	got := links(b.String(), false, 20)
	if len(got.links) != 20 || got.dropped != 10 || got.links[19] != "https://example.com/19" {
		t.Errorf("%d links, %d dropped: %q", len(got.links), got.dropped, got.links)
	}
	w := walk(t, "Content-Type: text/plain\n\n"+b.String(), Limits{Links: 5})
	if len(w.res.Links) != 5 || w.res.LinksDropped != 25 {
		t.Errorf("Result: %d links, %d dropped", len(w.res.Links), w.res.LinksDropped)
	}
}

// TestImports holds the package to its doc comment: the standard library,
// pkg/urlcanon and pkg/untrusted only.
func TestImports(t *testing.T) {
	p, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{"github.com/ksnproject/ksn/pkg/urlcanon", "github.com/ksnproject/ksn/pkg/untrusted"}
	for _, imp := range p.Imports {
		if strings.Contains(strings.Split(imp, "/")[0], ".") && !slices.Contains(allowed, imp) {
			t.Errorf("pkg/mail imports %s", imp)
		}
	}
}
