package check

import "github.com/ksnproject/ksn/pkg/checksum"

// The checksum types a command names when it fills Options, so that it
// need not import pkg/checksum.
type (
	// Algorithm is a digest algorithm ("blake3", "sha256", "sha1", "md5").
	Algorithm = checksum.Algorithm
	// Progress counts files and bytes done while a run works.
	Progress = checksum.Progress
	// StatCache remembers the digests of unchanged files (NewStatCache).
	StatCache = checksum.StatCache
)

// SumFormats are the output formats other tools verify with -c, and the
// digest each prints.
var SumFormats = map[string]Algorithm{"sha256sum": checksum.SHA256, "b3sum": checksum.BLAKE3}

// ParseAlgorithms parses a comma-separated list of digest names; with a
// sum format, that format's digest is added.
func ParseAlgorithms(list, format string) ([]Algorithm, error) {
	algs, err := checksum.ParseAlgorithms(list)
	if err != nil {
		return nil, err
	}
	if a, ok := SumFormats[format]; ok {
		algs = checksum.Canonical(append(algs, a))
	}
	return algs, nil
}

// The digests a command names.
const (
	BLAKE3 = checksum.BLAKE3
	SHA256 = checksum.SHA256
)
