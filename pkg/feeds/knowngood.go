package feeds

import (
	"fmt"
	"strings"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// knownGoodParser reads digest lists of known-good files (NSRL or
// hashlookup exports reduced to one digest a line): "digest [name]" or
// "algorithm:digest [name]". The name is discarded: a clean verdict needs
// none, and an allow-list's file names are not threat names.
type knownGoodParser struct{}

// guessable are the algorithms a bare digest's length can stand for. BLAKE3
// has SHA-256's length, so it is only ever taken from an explicit prefix.
var guessable = []checksum.Algorithm{checksum.SHA256, checksum.SHA1, checksum.MD5}

func (knownGoodParser) parseLine(line string) (reputation.FileIndicator, bool, error) {
	var none reputation.FileIndicator
	if line == "" || line[0] == '#' {
		return none, false, nil
	}
	token := firstToken(line)
	algs := guessable
	if prefix, hexPart, ok := strings.Cut(token, ":"); ok {
		a, err := checksum.ParseAlgorithm(prefix)
		if err != nil {
			return none, false, fmt.Errorf("%w: %s prefix (known: blake3, sha256, sha1, md5)", errBadAlgorithm, quote(prefix))
		}
		algs = []checksum.Algorithm{a}
		token = hexPart
	}
	alg, digest, err := parseDigest(token, algs...)
	if err != nil {
		return none, false, err
	}
	return reputation.FileIndicator{
		Algorithm: alg,
		Digest:    digest,
		Size:      -1,
		Verdict:   reputation.Clean,
		Category:  "known-good",
	}, true, nil
}

// firstToken returns the first whitespace-separated token of a line.
func firstToken(line string) string {
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		return line[:i]
	}
	return line
}
