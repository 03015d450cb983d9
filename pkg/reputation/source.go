package reputation

import (
	"context"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// Trust is how far a source's word goes when sources disagree (the trust
// rule of DESIGN §2, applied by Combine).
type Trust int

// The trust classes, from least to most trusted.
const (
	// TrustNetwork is a reputation server or a public service: it may
	// fill an unknown verdict or raise one (see Combine for today's rule).
	TrustNetwork Trust = iota + 1
	// TrustLocal is the local reputation database: the built-in baseline
	// and the feeds the user imported.
	TrustLocal
	// TrustOverride is an operator's verdict pinned in the local database:
	// it wins over every other source, also when it is lower.
	TrustOverride
)

// String names the trust class as --json and messages show it.
func (t Trust) String() string {
	switch t {
	case TrustNetwork:
		return "network"
	case TrustLocal:
		return "local"
	case TrustOverride:
		return "override"
	}
	return "none"
}

// FileQuery is one file to look up: the digests computed for it and its
// size (-1 when unknown).
type FileQuery struct {
	Digests checksum.Digests
	Size    int64
}

// LinkQuery is one link to look up: the hashes of its Safe Browsing
// expressions, and the prefixes that may leave the machine.
type LinkQuery = urlcanon.Lookup

// Answer is what one source said about one object. The zero Answer (no
// Source) means the source said nothing about it: it did not ask, or it
// was not allowed to.
type Answer struct {
	Source string // the source's name, e.g. "local", "network", "opentip"
	Trust  Trust
	Result
	// Matched lists, for a link, the expressions the answer matched, in
	// the link's expression order.
	Matched []string
}

// Given reports whether the source answered at all.
func (a Answer) Given() bool { return a.Source != "" }

// Source is anything that knows reputations: the local database, a ksn
// reputation server, a public service. Each lookup returns one Answer per
// query, in query order; a source that knows nothing of an object answers
// Unknown, and one that cannot look up an object (links, for a service that
// only knows files) returns zero Answers for it. An error means the source
// failed for the whole batch; callers keep the other sources' answers.
type Source interface {
	Name() string
	Trust() Trust
	LookupFiles(ctx context.Context, files []FileQuery) ([]Answer, error)
	LookupLinks(ctx context.Context, links []LinkQuery) ([]Answer, error)
}
