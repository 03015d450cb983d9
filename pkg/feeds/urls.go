package feeds

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// errBadURL is a feed entry whose link cannot be canonicalised.
var errBadURL = errors.New("bad URL")

// IsURLFormat reports whether f lists links rather than file digests: its
// entries go through ParseURLs, not Parse.
func IsURLFormat(f Format) bool { return f == URLhaus || f == URLList || f == URLhausHostfile }

// urlLineParser turns one line into at most one URL indicator, like
// lineParser does for file feeds.
type urlLineParser interface {
	parseLine(line string) (ind reputation.URLIndicator, ok bool, err error)
}

// ParseURLs is Parse for the link feeds (URLhaus, url-list): it streams r,
// calls emit once per indicator, and counts and skips malformed lines.
func ParseURLs(r io.Reader, f Format, emit func(reputation.URLIndicator) error) (Summary, error) {
	var p urlLineParser
	switch f {
	case URLhaus:
		p = newURLhausParser()
	case URLList:
		p = urlListParser{}
	case URLhausHostfile:
		return parseHostfile(r, emit)
	default:
		return Summary{Format: f}, fmt.Errorf("feeds: %q is not a URL feed format", f)
	}
	return parseLines(r, f, p.parseLine, emit)
}

// urlIndicator keys a listed link by its canonical host and path, and its
// query when it has one: a listed "docs.example/uc?id=X" must not flag
// every other file of that service, so another query string on the same
// path does not match. A link without a query names the path, whatever
// query a visit adds to it, and a link whose path is "/" names the whole
// host, as Safe Browsing's expressions do. (An indicator with a query is
// matched by the local database only: ksn never sends the prefix of an
// expression that holds a query; see urlcanon.Entry.Local.)
func urlIndicator(raw string) (reputation.URLIndicator, error) {
	c, err := urlcanon.Canonicalize(raw)
	if err != nil {
		return reputation.URLIndicator{}, fmt.Errorf("%w: %s: %v", errBadURL, quote(raw), strings.TrimPrefix(err.Error(), "urlcanon: "))
	}
	expr := c.Listing()
	return reputation.URLIndicator{Hash: urlcanon.Hash(expr), Expression: expr}, nil
}

// urlhausColumns is the column order of URLhaus's CSV dumps (csv.txt,
// csv_recent and csv_online), as their header comment names it.
var urlhausColumns = []string{"id", "dateadded", "url", "url_status", "last_online", "threat", "tags", "urlhaus_link", "reporter"}

// urlhausParser reads URLhaus's CSV dumps: a block of '#' comments whose
// last line names the columns, then one quoted row per URL.
type urlhausParser struct {
	url, added, threat, tags int
	minFields                int
	csv                      csvSplitter
}

func newURLhausParser() *urlhausParser {
	p := &urlhausParser{}
	p.setColumns(urlhausColumns)
	return p
}

func (p *urlhausParser) setColumns(names []string) {
	p.url, p.added, p.threat, p.tags = -1, -1, -1, -1
	for i, n := range names {
		switch strings.ToLower(strings.TrimSpace(n)) {
		case "url":
			p.url = i
		case "dateadded":
			p.added = i
		case "threat":
			p.threat = i
		case "tags":
			p.tags = i
		}
	}
	p.minFields = len(names)
}

// urlhausHeader reports whether fields are the column list.
func urlhausHeader(fields []string) bool {
	return len(fields) >= 3 && strings.EqualFold(strings.TrimSpace(fields[0]), "id") &&
		strings.EqualFold(strings.TrimSpace(fields[1]), "dateadded")
}

func (p *urlhausParser) parseLine(line string) (reputation.URLIndicator, bool, error) {
	var none reputation.URLIndicator
	if line == "" {
		return none, false, nil
	}
	if line[0] == '#' {
		body := strings.TrimLeft(line, "# \t")
		if fields, err := p.csv.split(body); err == nil && urlhausHeader(fields) {
			p.setColumns(fields)
		}
		return none, false, nil
	}
	fields, err := p.csv.split(line)
	if err != nil {
		return none, false, fmt.Errorf("%w: %v", errBadCSV, err)
	}
	if urlhausHeader(fields) {
		p.setColumns(fields)
		return none, false, nil
	}
	if p.url < 0 {
		return none, false, fmt.Errorf("%w: the column header names no url column", errMissingField)
	}
	if len(fields) < p.minFields {
		return none, false, fmt.Errorf("%w: %d fields, want %d", errMissingField, len(fields), p.minFields)
	}
	raw := strings.TrimSpace(fields[p.url])
	if raw == "" {
		return none, false, fmt.Errorf("%w: url is empty", errMissingField)
	}
	ind, err := urlIndicator(raw)
	if err != nil {
		return none, false, err
	}
	ind.Verdict = reputation.Malicious
	ind.Category = "malware_download"
	if p.threat >= 0 {
		if t := cleanName(strings.TrimSpace(fields[p.threat])); t != "" {
			ind.Category = t
		}
	}
	if p.tags >= 0 {
		ind.ThreatName = cleanName(familyTags(fields[p.tags]))
	}
	if p.added >= 0 {
		if s := strings.TrimSpace(fields[p.added]); s != "" {
			t, err := time.Parse(mbTimeLayout, s) // the same layout as MalwareBazaar's, also UTC
			if err != nil {
				return none, false, fmt.Errorf("%w: dateadded %s, want YYYY-MM-DD hh:mm:ss", errBadDate, quote(s))
			}
			ind.FirstSeen = t
		}
	}
	return ind, true, nil
}

// urlListParser reads a plain list: one link or host name a line, then
// optionally a verdict (malicious, the default, suspicious or clean) and a
// threat name, separated by white space; '#' starts a comment line.
//
//	evil.example
//	http://phish.example/login  malicious  Phish.Generic
//	downloads.vendor.example    clean
type urlListParser struct{}

func (urlListParser) parseLine(line string) (reputation.URLIndicator, bool, error) {
	var none reputation.URLIndicator
	if line == "" || line[0] == '#' {
		return none, false, nil
	}
	fields := strings.Fields(line)
	ind, err := urlIndicator(fields[0])
	if err != nil {
		return none, false, err
	}
	ind.Verdict = reputation.Malicious
	if len(fields) > 1 {
		v, err := reputation.ParseVerdict(fields[1])
		if err != nil || v == reputation.Unknown {
			return none, false, fmt.Errorf("%w: verdict %s (want malicious, suspicious or clean)", errBadField, quote(fields[1]))
		}
		ind.Verdict = v
	}
	if len(fields) > 2 {
		ind.ThreatName = cleanName(strings.Join(fields[2:], " "))
	}
	switch ind.Verdict {
	case reputation.Clean:
		ind.Category = "known-good"
	case reputation.Suspicious:
		ind.Category = "suspicious"
	default:
		ind.Category = "listed"
	}
	return ind, true, nil
}

// genericTags are URLhaus tags that say what was downloaded, not what it
// is: file types, architectures, how it was found.
var genericTags = map[string]bool{
	"exe": true, "dll": true, "zip": true, "rar": true, "7z": true, "gz": true, "elf": true, "doc": true, "docx": true,
	"xls": true, "xlsx": true, "pdf": true, "js": true, "vbs": true, "ps1": true, "bat": true, "msi": true, "apk": true,
	"jar": true, "iso": true, "lnk": true, "hta": true, "sh": true, "32-bit": true, "64-bit": true, "arm": true,
	"arm7": true, "aarch64": true, "mips": true, "mipsel": true, "x86": true, "x86-64": true, "x86_64": true,
	"powershell": true, "ascii": true, "encoded": true, "opendir": true, "payload": true, "script": true,
}

// familyTags makes a threat name of URLhaus's tag list ("exe,AgentTesla",
// "32-bit,elf,mips,Mozi"): the tags that name a family, comma-separated;
// "" when every tag is generic (the category still says what it is).
func familyTags(list string) string {
	var kept []string
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t != "" && !genericTags[strings.ToLower(t)] && !strings.HasPrefix(strings.ToLower(t), "dropped-by-") {
			kept = append(kept, t)
		}
	}
	return strings.Join(kept, ",")
}
