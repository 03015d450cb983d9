package store

import (
	"context"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// FileDigests holds the digests computed for one file, keyed by algorithm.
// Lookups use every digest present; an entry may lack some algorithms.
type FileDigests map[checksum.Algorithm][]byte

// Store is a reputation database as the client's commands use it: the
// local database (*Local), which `ksn check` and `ksn url` look up and
// `ksn feed import` fills. A server database (*Server) implements it too,
// so that `ksn feed import --db` loads feeds into either.
type Store interface {
	// LookupFiles returns one result per query, in query order. A file no
	// source knows is a result with verdict unknown, not an error.
	LookupFiles(ctx context.Context, files []FileDigests) ([]reputation.Result, error)

	// LookupURLs returns the indicators of the expression hashes the
	// database knows, by hash; a hash nobody lists is absent.
	LookupURLs(ctx context.Context, hashes []URLHash) (map[URLHash][]reputation.URLSourced, error)

	// Algorithms lists the digest algorithms that at least one indicator in
	// the database is keyed by, so a caller can compute what lookups need.
	Algorithms(ctx context.Context) ([]checksum.Algorithm, error)

	// BeginImport starts loading indicators from one named source (for
	// example "malwarebazaar"). Nothing is visible to lookups before Commit
	// returns, and re-importing identical indicators changes nothing.
	BeginImport(ctx context.Context, source string) (Importer, error)

	Close() error
}

// Importer receives the indicators of one import. The context given to
// BeginImport governs the whole import.
type Importer interface {
	Add(ind reputation.FileIndicator) error
	// AddURL adds a link indicator (link feeds such as URLhaus).
	AddURL(ind reputation.URLIndicator) error
	// Commit makes the import visible and says what changed.
	Commit() (ImportStats, error)
	// Rollback abandons the import; it is safe after Commit.
	Rollback() error
}

// ImportStats counts what an import did to the database.
type ImportStats struct {
	Added     int // indicators the source did not have before
	Updated   int // indicators whose verdict, name, category, size or first-seen date changed
	Unchanged int // indicators already present exactly as given
}
