package checksum

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/zeebo/blake3"
)

// Algorithm names a digest ksn can compute. The string is the name used on
// the command line, in JSON output and in the reputation database.
type Algorithm string

// The digests ksn knows. BLAKE3 and SHA-256 are computed by default; MD5 and
// SHA-1 exist because threat feeds still publish them.
const (
	BLAKE3 Algorithm = "blake3"
	SHA256 Algorithm = "sha256"
	SHA1   Algorithm = "sha1"
	MD5    Algorithm = "md5"
)

// All lists every algorithm in the canonical order used for output.
var All = []Algorithm{BLAKE3, SHA256, SHA1, MD5}

// Default is what `ksn check` computes when --hash is not given.
var Default = []Algorithm{BLAKE3, SHA256}

// Size returns the digest length in bytes.
func (a Algorithm) Size() int {
	switch a {
	case BLAKE3, SHA256:
		return 32
	case SHA1:
		return 20
	case MD5:
		return 16
	}
	return 0
}

// New returns a fresh hash.Hash for the algorithm.
func (a Algorithm) New() hash.Hash {
	switch a {
	case BLAKE3:
		return blake3.New()
	case SHA256:
		return sha256.New()
	case SHA1:
		return sha1.New()
	case MD5:
		return md5.New()
	}
	panic("checksum: unknown algorithm " + string(a))
}

// Valid reports whether a is one of the known algorithms.
func (a Algorithm) Valid() bool { return a.Size() != 0 }

// ParseAlgorithm accepts an algorithm name, case-insensitively, with or
// without a dash ("SHA-256").
func ParseAlgorithm(s string) (Algorithm, error) {
	a := Algorithm(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", ""))
	if !a.Valid() {
		return "", fmt.Errorf("unknown hash %q (known: blake3, sha256, sha1, md5)", s)
	}
	return a, nil
}

// ParseAlgorithms parses a comma-separated list such as "blake3,sha256" and
// returns it de-duplicated in canonical order.
func ParseAlgorithms(s string) ([]Algorithm, error) {
	var out []Algorithm
	for part := range strings.SplitSeq(s, ",") {
		a, err := ParseAlgorithm(part)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return Canonical(out), nil
}

// Canonical returns algs de-duplicated and sorted in the order of All.
func Canonical(algs []Algorithm) []Algorithm {
	var out []Algorithm
	for _, a := range All {
		if slices.Contains(algs, a) {
			out = append(out, a)
		}
	}
	return out
}

// AlgorithmForHexLength guesses the algorithm of a hex digest from its length.
// A 64-character digest is reported as SHA-256: feeds that publish BLAKE3 say so.
func AlgorithmForHexLength(n int) (Algorithm, bool) {
	switch n {
	case 64:
		return SHA256, true
	case 40:
		return SHA1, true
	case 32:
		return MD5, true
	}
	return "", false
}
