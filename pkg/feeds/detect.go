package feeds

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ksnproject/ksn/pkg/checksum"
)

// sniffLimit is how much of a feed Detect looks at, and so how much Open
// buffers before handing the stream on: enough for the MalwareBazaar header
// block and dozens of entries of any format.
const sniffLimit = 64 << 10

// Detect picks a format from the file name and its first bytes (up to
// 64 KiB; more is ignored) and explains failure. The extension decides for
// the ClamAV databases, because .hdb and .hsb lines overlap (both may hold
// SHA-1 and SHA-256) and the publisher's choice is the better guide; other
// files are recognised by their first entry that looks like one of the
// formats, so a damaged first line does not defeat detection. The name may
// still carry a ".gz"; head must be the decompressed text.
func Detect(name string, head []byte) (Format, error) {
	fail := func(reason string) (Format, error) {
		return "", fmt.Errorf("cannot tell the feed format of %s: %s; pass --format with one of: %s",
			displayName(name), reason, formatList())
	}
	base := strings.ToLower(filepath.Base(name))
	base = strings.TrimSuffix(base, ".gz")
	ext := filepath.Ext(base)
	switch ext {
	case ".hdb":
		return ClamAVHDB, nil
	case ".hsb":
		return ClamAVHSB, nil
	case ".fp", ".sfp":
		// Same line layout as .hdb, opposite meaning: guessing hdb here
		// would mark ClamAV's allow-listed files malicious.
		return fail("ClamAV " + ext + " files list false positives, files ClamAV must not flag, so they are not imported as malware hashes")
	case ".hdu", ".hsu":
		return fail("ClamAV " + ext + " files hold PUA hashes; to import them anyway use clamav-hdb or clamav-hsb (entries not named PUA.* are then reported as malicious)")
	case ".mdb", ".msb", ".imp":
		return fail("ClamAV " + ext + " files hash PE sections or import tables, not whole files, so ksn cannot match them")
	case ".cvd", ".cld", ".cud":
		return ClamAVCVD, nil
	}

	if len(head) >= sniffLimit {
		// A head this long is most likely a prefix of the file: its last
		// line may be cut, and a cut line can look valid when it is not.
		head = head[:sniffLimit]
		if i := bytes.LastIndexByte(head, '\n'); i >= 0 {
			head = head[:i+1]
		}
	}
	switch {
	case len(head) == 0:
		return fail("the file is empty")
	case bytes.HasPrefix(head, gzipMagic):
		return fail("it is gzip-compressed data")
	case bytes.HasPrefix(head, zipMagic), bytes.HasPrefix(head, zipEmpty):
		return fail("it is a zip archive")
	case bytes.HasPrefix(head, []byte(cvdMagic)):
		return ClamAVCVD, nil
	case bytes.IndexByte(head, 0) >= 0:
		return fail("it holds binary data, not feed text")
	}

	head = bytes.TrimPrefix(head, utf8BOM)
	sn := newSniffer()
	var firstUnknown string
	dataLines := 0
	for i, raw := range bytes.Split(head, []byte("\n")) {
		line := strings.TrimSpace(string(raw))
		if line == "" {
			continue
		}
		if line[0] == '#' {
			if mbComment(line) {
				return MalwareBazaar, nil
			}
			if urlhausComment(line) {
				return URLhaus, nil
			}
			if hostfileComment(line) {
				return URLhausHostfile, nil
			}
			continue
		}
		dataLines++
		f, ok := sn.sniffLine(line)
		if !ok {
			if firstUnknown == "" {
				firstUnknown = fmt.Sprintf("line %d, %s", i+1, quote(line))
			}
			continue
		}
		if ext == ".csv" && f != MalwareBazaar && f != URLhaus {
			break
		}
		return f, nil
	}
	switch {
	case ext == ".csv":
		return fail("it is named .csv but is not a MalwareBazaar export (no column header naming sha256_hash, no 14-field quoted rows) nor a URLhaus dump (no id,dateadded,url header, no 9-field quoted rows)")
	case dataLines == 0:
		return fail("it holds only comments and blank lines")
	}
	return fail("no line looks like an entry of a known format (first: " + firstUnknown + ")")
}

// mbComment recognises the MalwareBazaar export's header block: its banner
// ("MalwareBazaar recent malware samples (CSV)") and its column list. A
// comment that merely mentions MalwareBazaar is not enough.
func mbComment(line string) bool {
	body := strings.ToLower(line)
	return strings.Contains(body, "malwarebazaar") && strings.Contains(body, "(csv)") ||
		strings.Contains(body, "sha256_hash") && strings.Contains(body, "first_seen_utc")
}

// urlhausComment recognises the URLhaus dump's header block: its banner
// ("abuse.ch URLhaus Database Dump (CSV ...)") and its column list.
func urlhausComment(line string) bool {
	body := strings.ToLower(line)
	return strings.Contains(body, "urlhaus") && strings.Contains(body, "(csv") ||
		strings.Contains(body, "id,dateadded,url,url_status")
}

// sniffer recognises formats line by line by asking the parsers themselves,
// so a detected format always parses the line that decided it.
type sniffer struct {
	mb *mbParser
	uh *urlhausParser
}

func newSniffer() sniffer { return sniffer{mb: newMalwareBazaarParser(), uh: newURLhausParser()} }

// sniffLine says which format one non-comment line belongs to, if any.
func (sn sniffer) sniffLine(line string) (Format, bool) {
	if _, _, err := sn.mb.parseLine(line); err == nil {
		// Either a row, or (ok false) the column header without its "#".
		return MalwareBazaar, true
	}
	if ind, ok, err := (clamavParser{}).parseLine(line); ok && err == nil {
		if ind.Algorithm == checksum.MD5 {
			return ClamAVHDB, true
		}
		// ClamAV's documentation puts SHA-1 and SHA-256 in .hsb.
		return ClamAVHSB, true
	}
	if _, ok, err := (knownGoodParser{}).parseLine(line); ok && err == nil {
		return KnownGood, true
	}
	if _, ok, err := sn.uh.parseLine(line); ok && err == nil {
		return URLhaus, true
	}
	if _, ok, err := (hostfileParser{}).parseLine(line); ok && err == nil {
		return URLhausHostfile, true
	}
	if looksLikeLink(firstToken(line)) {
		if _, ok, err := (urlListParser{}).parseLine(line); ok && err == nil {
			return URLList, true
		}
	}
	return "", false
}

// looksLikeLink accepts what a list of links starts its lines with: a URL
// with a scheme, or a host name with at least one dot. Anything that parses
// as a URL would be too lenient: "deadbeef" is a valid host name.
func looksLikeLink(tok string) bool {
	if strings.Contains(tok, "://") {
		return true
	}
	host, _, _ := strings.Cut(tok, "/")
	if !strings.Contains(strings.Trim(host, "."), ".") {
		return false
	}
	for _, c := range host {
		if !(c == '.' || c == '-' || c == ':' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c > 0x7f) {
			return false
		}
	}
	return true
}

// displayName keeps an error readable and safe to print whatever the name
// is: names come from zip archives and gzip headers as well as from the
// user, and an archive member named with escape sequences must not reach a
// terminal raw.
func displayName(name string) string {
	if name == "" {
		return "the feed"
	}
	if cleanName(name) != name {
		return strconv.Quote(name)
	}
	return name
}
