package feeds

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

const urlhausColumnLine = "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter"

// uhRow is a URLhaus row in the dump's layout: every field quoted, ","
// between them.
func uhRow(url, added, threat, tags string) string {
	return `"1","` + added + `","` + url + `","online","","` + threat + `","` + tags + `","https://urlhaus.abuse.ch/url/1/","ksn"`
}

func parseURLLines(t *testing.T, f Format, text string) ([]reputation.URLIndicator, Summary) {
	t.Helper()
	var got []reputation.URLIndicator
	sum, err := ParseURLs(strings.NewReader(text), f, func(ind reputation.URLIndicator) error {
		checkURLIndicator(t, ind)
		got = append(got, ind)
		return nil
	})
	if err != nil {
		t.Fatalf("ParseURLs: %v", err)
	}
	return got, sum
}

// checkURLIndicator holds for every URL indicator any parser emits.
func checkURLIndicator(t testing.TB, ind reputation.URLIndicator) {
	t.Helper()
	if ind.Hash != urlcanon.Hash(ind.Expression) {
		t.Fatalf("hash of %q is not its SHA-256", ind.Expression)
	}
	// A scheme would come before the host's first '/'; a query may hold
	// "://" (?next=http://...), as the fuzzer found.
	scheme := strings.Index(ind.Expression, "://")
	if ind.Expression == "" || (scheme >= 0 && !strings.Contains(ind.Expression[:scheme], "/")) || strings.Contains(ind.Expression, "#") {
		t.Fatalf("expression %q: want canonical host, path and query, no scheme or fragment", ind.Expression)
	}
	c, err := urlcanon.Canonicalize("http://" + ind.Expression)
	again := c.Host + c.Path
	if c.HasQuery {
		again += "?" + c.Query
	}
	if err != nil || again != ind.Expression {
		t.Fatalf("expression %q is not canonical (%v, %q)", ind.Expression, err, again)
	}
	switch ind.Verdict {
	case reputation.Malicious, reputation.Suspicious, reputation.Clean:
	default:
		t.Fatalf("verdict %q", ind.Verdict)
	}
	if cleanName(ind.ThreatName) != ind.ThreatName || cleanName(ind.Category) != ind.Category {
		t.Fatalf("names not clean: %q %q", ind.ThreatName, ind.Category)
	}
}

func TestURLhausLines(t *testing.T) {
	added := time.Date(2024, 11, 26, 9, 11, 5, 0, time.UTC)
	tests := []struct {
		name        string
		line        string
		expr        string // "" when the line yields nothing
		threat, cat string
		first       time.Time
		err         error
	}{
		{"row", uhRow("http://evil.example/dl/x.exe", "2024-11-26 09:11:05", "malware_download", "exe,Mozi"),
			"evil.example/dl/x.exe", "Mozi", "malware_download", added, nil},
		{"the family of a tag list", uhRow("http://evil.example/m", "2024-11-26 09:11:05", "malware_download", "32-bit,elf,mips,Mozi,dropped-by-Gafgyt"),
			"evil.example/m", "Mozi", "malware_download", added, nil},
		{"only generic tags", uhRow("http://evil.example/z", "2024-11-26 09:11:05", "malware_download", "zip,exe"),
			"evil.example/z", "", "malware_download", added, nil},
		{"query kept", uhRow("https://docs.example/uc?export=download&id=1AbC", "2024-11-26 09:11:05", "malware_download", ""),
			"docs.example/uc?export=download&id=1AbC", "", "malware_download", added, nil},
		{"fragment dropped, host lower-cased", uhRow("HTTP://Evil.Example./a/./b#frag", "2024-11-26 09:11:05", "malware_download", ""),
			"evil.example/a/b", "", "malware_download", added, nil},
		{"userinfo and port dropped", uhRow("http://u:p@198.51.100.23:8080/bin.sh", "2024-11-26 09:11:05", "malware_download", ""),
			"198.51.100.23/bin.sh", "", "malware_download", added, nil},
		{"no threat column value", uhRow("http://evil.example/", "", "", ""),
			"evil.example/", "", "malware_download", time.Time{}, nil},
		{"comment", "# anything, even \"quotes\"", "", "", "", time.Time{}, nil},
		{"header without #", "id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter", "", "", "", time.Time{}, nil},
		{"bad URL", uhRow("http://[oops/x", "2024-11-26 09:11:05", "malware_download", ""), "", "", "", time.Time{}, errBadURL},
		{"empty URL", uhRow("", "2024-11-26 09:11:05", "malware_download", ""), "", "", "", time.Time{}, errMissingField},
		{"bad date", uhRow("http://evil.example/", "26/11/2024", "malware_download", ""), "", "", "", time.Time{}, errBadDate},
		{"cut short", `"1","2024-11-26 09:11:05","http://evil.example/"`, "", "", "", time.Time{}, errMissingField},
		{"stray quote", `"1","2024-11-26 09:11:05","http://evil.example/"x,"online","","","","",""`, "", "", "", time.Time{}, errBadCSV},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, sum := parseURLLines(t, URLhaus, urlhausColumnLine+"\n"+tt.line+"\n")
			if tt.err != nil {
				if sum.Malformed != 1 || !errors.Is(sum.Errors[0], tt.err) || sum.Errors[0].Line != 2 {
					t.Fatalf("summary %+v, want line 2 rejected with %v", sum, tt.err)
				}
				return
			}
			if tt.expr == "" {
				if len(got) != 0 || sum.Malformed != 0 {
					t.Fatalf("got %v, %+v; want nothing", got, sum)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d indicators (%+v), want 1", len(got), sum)
			}
			g := got[0]
			if g.Expression != tt.expr || g.Verdict != reputation.Malicious || g.ThreatName != tt.threat || g.Category != tt.cat || !g.FirstSeen.Equal(tt.first) {
				t.Fatalf("got %+v, want %q malicious %q %q %v", g, tt.expr, tt.threat, tt.cat, tt.first)
			}
		})
	}
}

// TestURLhausReorderedColumns follows the column list when a dump names
// its columns in another order.
func TestURLhausReorderedColumns(t *testing.T) {
	text := "# url,id,dateadded,threat,tags\n" + `"http://evil.example/p","7","2024-11-26 09:11:05","malware_download","Mirai"` + "\n"
	got, sum := parseURLLines(t, URLhaus, text)
	// The header must name id and dateadded first to be recognised as one;
	// this one does not, so the published order applies and the row is short.
	if len(got) != 0 || sum.Malformed != 1 {
		t.Fatalf("got %v, %+v", got, sum)
	}
	text = "# id,dateadded,threat,url,tags\n" + `"7","2024-11-26 09:11:05","malware_download","http://evil.example/p","Mirai"` + "\n"
	got, _ = parseURLLines(t, URLhaus, text)
	if len(got) != 1 || got[0].Expression != "evil.example/p" || got[0].ThreatName != "Mirai" {
		t.Fatalf("got %+v", got)
	}
}

func TestURLListLines(t *testing.T) {
	tests := []struct {
		line        string
		expr        string
		verdict     reputation.Verdict
		threat, cat string
		err         error
	}{
		{"evil.example", "evil.example/", reputation.Malicious, "", "listed", nil},
		{"http://Evil.Example/Login?user=x#top  malicious  Phish.Generic  v2", "evil.example/Login?user=x", reputation.Malicious, "Phish.Generic v2", "listed", nil},
		{"ads.example\tsuspicious", "ads.example/", reputation.Suspicious, "", "suspicious", nil},
		{"cdn.vendor.example/releases/ CLEAN", "cdn.vendor.example/releases/", reputation.Clean, "", "known-good", nil},
		{"# a comment", "", "", "", "", nil},
		{"evil.example unknown", "", "", "", "", errBadField},
		{"evil.example maybe", "", "", "", "", errBadField},
		{"http://[::1", "", "", "", "", errBadURL},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, sum := parseURLLines(t, URLList, tt.line+"\n")
			switch {
			case tt.err != nil:
				if sum.Malformed != 1 || !errors.Is(sum.Errors[0], tt.err) {
					t.Fatalf("summary %+v, want %v", sum, tt.err)
				}
			case tt.expr == "":
				if len(got) != 0 || sum.Malformed != 0 {
					t.Fatalf("got %v %+v, want nothing", got, sum)
				}
			default:
				if len(got) != 1 || got[0].Expression != tt.expr || got[0].Verdict != tt.verdict || got[0].ThreatName != tt.threat || got[0].Category != tt.cat {
					t.Fatalf("got %+v, want %q %s %q %q", got, tt.expr, tt.verdict, tt.threat, tt.cat)
				}
			}
		})
	}
}

// TestURLSamples checks the promises testdata/feeds/README.md makes about
// the link feeds, read the way `ksn feed import` reads them.
func TestURLSamples(t *testing.T) {
	tests := []struct {
		file                         string
		format                       Format
		lines, indicators, malformed int
		badLine                      int
		reason                       error
		expr                         string
		verdict                      reputation.Verdict
	}{
		{"urlhaus-recent.csv", URLhaus, 16, 6, 1, 15, errBadURL, "malware.ksn-test.example/dl/payload.exe?ref=feed", reputation.Malicious},
		{"url-list.txt", URLList, 7, 4, 1, 7, errBadField, "phish.ksn-test.example/", reputation.Malicious},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rc, f, err := Open(filepath.Join("..", "..", "testdata", "feeds", tt.file), Auto)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			if f != tt.format {
				t.Fatalf("detected %q, want %q", f, tt.format)
			}
			found := 0
			sum, err := ParseURLs(rc, f, func(ind reputation.URLIndicator) error {
				checkURLIndicator(t, ind)
				if ind.Expression == tt.expr && ind.Verdict == tt.verdict {
					found++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Lines != tt.lines || sum.Indicators != tt.indicators || sum.Malformed != tt.malformed {
				t.Errorf("lines/indicators/malformed = %d/%d/%d, want %d/%d/%d", sum.Lines, sum.Indicators, sum.Malformed, tt.lines, tt.indicators, tt.malformed)
			}
			if len(sum.Errors) != 1 || sum.Errors[0].Line != tt.badLine || !errors.Is(sum.Errors[0], tt.reason) {
				t.Errorf("errors %v, want line %d: %v", sum.Errors, tt.badLine, tt.reason)
			}
			if found != 1 {
				t.Errorf("the deterministic entry %q %s was emitted %d times", tt.expr, tt.verdict, found)
			}
		})
	}
}

func TestDetectURLFeeds(t *testing.T) {
	tests := []struct {
		name, file, head string
		want             Format
	}{
		{"urlhaus banner", "csv.txt", "# abuse.ch URLhaus Database Dump (CSV - recent URLs)\n", URLhaus},
		{"urlhaus column list", "recent.csv", urlhausColumnLine + "\n", URLhaus},
		{"urlhaus rows only", "dump.csv", uhRow("http://evil.example/x", "2024-11-26 09:11:05", "malware_download", "") + "\n", URLhaus},
		{"list of hosts", "hosts.txt", "# blocked\nevil.example\nads.example suspicious\n", URLList},
		{"list of links", "links", "https://evil.example/login\n", URLList},
		{"a digest is not a host", "list", strings.Repeat("ab", 32) + "\n", KnownGood},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect(tt.file, []byte(tt.head))
			if err != nil || got != tt.want {
				t.Fatalf("Detect = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseRefusesTheOtherKind(t *testing.T) {
	if _, err := Parse(strings.NewReader("evil.example\n"), URLList, nil); err == nil {
		t.Fatal("Parse accepted a link feed")
	}
	if _, err := ParseURLs(strings.NewReader(""), KnownGood, nil); err == nil {
		t.Fatal("ParseURLs accepted a file feed")
	}
}

// fuzzParseURLs runs ParseURLs over data and checks what every link feed
// keeps: no panic, canonical expressions with their hashes, sound counts.
func fuzzParseURLs(t *testing.T, data []byte, f Format) {
	emitted := 0
	sum, err := ParseURLs(bytes.NewReader(data), f, func(ind reputation.URLIndicator) error {
		checkURLIndicator(t, ind)
		emitted++
		return nil
	})
	if err != nil {
		t.Fatalf("ParseURLs of in-memory data failed: %v", err)
	}
	if emitted != sum.Indicators || sum.Format != f {
		t.Fatalf("emitted %d, summary %+v", emitted, sum)
	}
	if f == URLhausHostfile {
		// A host file's line names several hosts: indicators are not
		// bounded by lines there, the rest of the summary is.
		sum.Indicators = 0
	}
	checkSummary(t, sum, data)
}

func FuzzParseURLhaus(f *testing.F) {
	f.Add([]byte(urlhausColumnLine + "\n" + uhRow("http://evil.example/dl/x.exe?ref=1", "2024-11-26 09:11:05", "malware_download", "exe") + "\n"))
	f.Add([]byte(uhRow("http://u:p@[2001:db8::1]:8080/%2e%2e/a", "", "", "") + "\r\n"))
	f.Add([]byte(uhRow("http://xn--bcher-kva.example/%25%32%35", "2024-11-26 09:11:05", "phishing", "a,b") + "\n"))
	f.Add([]byte(`"1","2024-11-26 09:11:05","http://[x` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParseURLs(t, data, URLhaus) })
}

func FuzzParseURLList(f *testing.F) {
	f.Add([]byte("evil.example\nhttp://login.example/verify malicious Phish\n"))
	f.Add([]byte("ads.example suspicious\n# c\n\n0x7f.1/ clean\n"))
	f.Add([]byte("http://3279880203/blah  malicious\nhttp://%20leadingspace.com/\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParseURLs(t, data, URLList) })
}

func FuzzParseHostfile(f *testing.F) {
	f.Add([]byte("#####\n# abuse.ch URLhaus Host file   #\n127.0.0.1\tevil.example\n"))
	f.Add([]byte("0.0.0.0 a.example b.example # trailing\r\n::1 localhost\n"))
	f.Add([]byte("127.0.0.1\txn--bcher-kva.example\n127.0.0.1 [::1]\n127.0.0.1\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParseURLs(t, data, URLhausHostfile) })
}
