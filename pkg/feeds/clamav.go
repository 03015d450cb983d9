package feeds

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// clamavParser reads ClamAV file hash databases: HashString:FileSize:MalwareName
// with up to two functionality-level fields after the name
// (docs.clamav.net, "File hash signatures").
type clamavParser struct {
	hsb bool // .hsb: SHA-256 or SHA-1 only; .hdb also takes them, MD5 first
	pua bool // .hdu, .hsu: every entry is a potentially unwanted application
}

// Which digests each database may hold. ClamAV tells them apart by length in
// both files, but .hsb exists precisely for the longer digests, so an MD5 in
// one is a sign of a mix-up and is rejected.
var (
	hdbAlgorithms = []checksum.Algorithm{checksum.MD5, checksum.SHA1, checksum.SHA256}
	hsbAlgorithms = []checksum.Algorithm{checksum.SHA256, checksum.SHA1}
)

// puaPrefix marks ClamAV's "potentially unwanted application" signatures,
// which ClamAV itself only reports when asked to; ksn reports them, but as
// suspicious rather than malicious.
const puaPrefix = "PUA."

func (p clamavParser) parseLine(line string) (reputation.FileIndicator, bool, error) {
	var none reputation.FileIndicator
	if line == "" || line[0] == '#' {
		return none, false, nil
	}
	fields := strings.Split(line, ":")
	if len(fields) < 3 {
		return none, false, fmt.Errorf("%w: %d fields, want HashString:FileSize:MalwareName", errMissingField, len(fields))
	}
	if len(fields) > 5 {
		return none, false, fmt.Errorf("%w: %d fields, want at most 5 (hash, size, name, two functionality levels)", errBadField, len(fields))
	}
	algs := hdbAlgorithms
	if p.hsb {
		algs = hsbAlgorithms
	}
	alg, digest, err := parseDigest(strings.TrimSpace(fields[0]), algs...)
	if err != nil {
		return none, false, err
	}
	size, err := clamavSize(strings.TrimSpace(fields[1]))
	if err != nil {
		return none, false, err
	}
	name := cleanName(fields[2])
	if name == "" {
		return none, false, fmt.Errorf("%w: empty malware name", errMissingField)
	}
	for _, fl := range fields[3:] {
		// ClamAV allows an empty minimum with a maximum after it.
		if fl = strings.TrimSpace(fl); fl != "" && !isDigits(fl) {
			return none, false, fmt.Errorf("%w: functionality level %s is not a number", errBadField, quote(fl))
		}
	}
	ind := reputation.FileIndicator{
		Algorithm:  alg,
		Digest:     digest,
		Size:       size,
		Verdict:    reputation.Malicious,
		ThreatName: name,
		Category:   "malware",
	}
	if p.pua || strings.HasPrefix(name, puaPrefix) {
		ind.Verdict = reputation.Suspicious
		ind.Category = "pua"
	}
	return ind, true, nil
}

// clamavSize reads FileSize; "*" means ClamAV matches the hash at any size.
func clamavSize(s string) (int64, error) {
	if s == "*" {
		return -1, nil
	}
	if !isDigits(s) {
		return 0, fmt.Errorf("%w: %s, want a byte count or *", errBadSize, quote(s))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s is out of range", errBadSize, quote(s))
	}
	return n, nil
}
