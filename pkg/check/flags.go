package check

import (
	"fmt"

	"github.com/ksnproject/ksn/pkg/exitcode"
)

// MaxWorkers bounds --workers: each worker holds a 256 KiB buffer, and far
// more workers than cores only add memory and contention.
const MaxWorkers = 256

// Flags are the flags of `ksn check` that shape a run, as given.
type Flags struct {
	Format    string // --format: "", "sha256sum" or "b3sum"
	Hash      string // --hash: digest names, comma-separated
	JSON      bool
	Quiet     bool
	Null      bool // -0
	FilesFrom string
	Workers   int // 0: the number of CPUs
}

// Algorithms checks the flags together and returns the digests a run
// computes: those of --hash, and the one --format prints. What cannot run
// is a usage error that names the flags.
func (f Flags) Algorithms() ([]Algorithm, error) {
	if _, ok := SumFormats[f.Format]; f.Format != "" && !ok {
		return nil, usage("use --format sha256sum or --format b3sum", "--format: unknown format %q", f.Format)
	}
	if f.Format != "" && f.JSON {
		return nil, usage("", "--json and --format cannot be used together")
	}
	algs, err := ParseAlgorithms(f.Hash, f.Format)
	switch {
	case err != nil:
		return nil, usage("see 'ksn check --help'", "--hash: %v", err)
	case f.Workers < 0 || f.Workers > MaxWorkers:
		return nil, usage(fmt.Sprintf("--workers from 1 to %d (0: the number of CPUs)", MaxWorkers), "--workers: %d is out of range", f.Workers)
	case f.Quiet && f.Format != "":
		return nil, usage("", "--quiet and --format cannot be used together: a checksum list needs every file")
	case f.Null && f.FilesFrom == "":
		return nil, usage("use -0 together with --files-from", "-0 only applies to --files-from")
	}
	return algs, nil
}

func usage(hint, format string, args ...any) error {
	return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf(format, args...), Hint: hint}
}

// OpenStatCache returns the stat cache at path ("": none, every file is
// hashed). With preload (a walk is coming, and the cache is to be used)
// it is read at once on a goroutine of its own, while the databases open.
func OpenStatCache(path string, preload bool) *StatCache {
	if path == "" {
		return nil
	}
	c := NewStatCache(path)
	if preload {
		go c.Load()
	}
	return c
}
