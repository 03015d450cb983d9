package check

import (
	"strings"

	"github.com/ksnproject/ksn/pkg/checksum"
)

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

// SumLine is the item's line in a sum format ("sha256sum", "b3sum"), as
// `sha256sum -c` and `b3sum -c` accept it: a name holding a backslash or a
// newline is escaped and the line marked with a leading backslash, as
// those tools do, so that every name round-trips.
func (it Item) SumLine(format string) string {
	name, prefix := it.Path, ""
	if strings.ContainsAny(name, "\\\n") {
		name = strings.NewReplacer("\\", "\\\\", "\n", "\\n").Replace(name)
		prefix = "\\"
	}
	return prefix + it.Digests.Hex(SumFormats[format]) + "  " + name + "\n"
}
