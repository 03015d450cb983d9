package sources

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
)

// LocalName is the name of the local database among the sources.
const LocalName = "local"

// LocalDB is what the local source needs of the local reputation database.
type LocalDB interface {
	LookupFiles(ctx context.Context, files []store.FileDigests) ([]reputation.Result, error)
	LookupURLs(ctx context.Context, hashes []store.URLHash) (map[store.URLHash][]reputation.URLSourced, error)
	Algorithms(ctx context.Context) ([]checksum.Algorithm, error)
}

// keySetDB is a local database that can hand over the keys of all its
// indicators when it holds few (store's SQLite database can).
type keySetDB interface {
	SmallKeySet(ctx context.Context, max int) (*store.KeySet, bool, error)
}

// smallIndicators is the most indicators a local database may hold for a
// run to read all their keys into memory first (about 5 ms at the most).
const smallIndicators = 10_000

// Local is the local reputation database as a source: the built-in
// baseline, the imported feeds and the operator's overrides. An answer
// that an override decided has TrustOverride; the others TrustLocal.
type Local struct {
	db       LocalDB
	keysOnce sync.Once
	keys     *store.KeySet // nil: every lookup asks the database
}

// NewLocal returns the source of a local database.
func NewLocal(db LocalDB) *Local { return &Local{db: db} }

// Name implements reputation.Source.
func (l *Local) Name() string { return LocalName }

// Trust implements reputation.Source.
func (l *Local) Trust() reputation.Trust { return reputation.TrustLocal }

// Algorithms lists the digests the database's indicators are keyed by.
func (l *Local) Algorithms(ctx context.Context) ([]checksum.Algorithm, error) {
	algs, err := l.db.Algorithms(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the reputation database: %w", err)
	}
	return algs, nil
}

// LookupFiles answers every file with one database query. In a small
// database only the files one of whose digests an indicator is keyed by
// are asked about (a map probe instead of a SQLite search); the rest are
// unknown.
func (l *Local) LookupFiles(ctx context.Context, files []reputation.FileQuery) ([]reputation.Answer, error) {
	l.keysOnce.Do(func() { l.keys = smallKeySet(ctx, l.db) })
	out := make([]reputation.Answer, len(files))
	var queries []store.FileDigests
	var idx []int
	for i, f := range files {
		out[i] = reputation.Answer{Source: LocalName, Trust: reputation.TrustLocal, Result: reputation.Result{Verdict: reputation.Unknown}}
		if l.keys != nil && !l.keys.MayMatch(store.FileDigests(f.Digests)) {
			continue
		}
		queries = append(queries, store.FileDigests(f.Digests))
		idx = append(idx, i)
	}
	if len(queries) == 0 {
		return out, nil
	}
	res, err := l.db.LookupFiles(ctx, queries)
	if err != nil {
		return nil, fmt.Errorf("looking up the reputation database: %w", err)
	}
	if len(res) != len(queries) {
		return nil, fmt.Errorf("reputation database returned %d results for %d files", len(res), len(queries))
	}
	for j, i := range idx {
		out[i] = localAnswer(res[j], nil)
	}
	return out, nil
}

// LookupLinks matches every expression hash of every link in one query.
func (l *Local) LookupLinks(ctx context.Context, links []reputation.LinkQuery) ([]reputation.Answer, error) {
	var hashes []store.URLHash
	for _, q := range links {
		for _, e := range q.Entries {
			hashes = append(hashes, e.Full)
		}
	}
	found, err := l.db.LookupURLs(ctx, hashes)
	if err != nil {
		return nil, fmt.Errorf("reading the reputation database: %w", err)
	}
	out := make([]reputation.Answer, len(links))
	for i, q := range links {
		var inds []reputation.URLSourced
		var matched []string
		for _, e := range q.Entries {
			if m := found[e.Full]; len(m) > 0 {
				inds = append(inds, m...)
				matched = append(matched, e.Expression)
			}
		}
		res := reputation.Result{Verdict: reputation.Unknown}
		if len(inds) > 0 {
			res = reputation.MergeURLs(inds)
		}
		out[i] = localAnswer(res, matched)
	}
	return out, nil
}

// localAnswer marks an answer an override decided: it is final.
func localAnswer(r reputation.Result, matched []string) reputation.Answer {
	trust := reputation.TrustLocal
	if slices.Contains(r.Sources, reputation.OverrideSource) {
		trust = reputation.TrustOverride
	}
	return reputation.Answer{Source: LocalName, Trust: trust, Result: r, Matched: matched}
}

// smallKeySet returns the keys of a small database's indicators, or nil
// when the database is large or cannot tell.
func smallKeySet(ctx context.Context, db LocalDB) *store.KeySet {
	s, ok := db.(keySetDB)
	if !ok {
		return nil
	}
	keys, ok, err := s.SmallKeySet(ctx, smallIndicators)
	if err != nil || !ok {
		return nil // every lookup asks the database, as for a large one
	}
	return keys
}
