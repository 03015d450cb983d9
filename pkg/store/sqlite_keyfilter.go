package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// serverFilter keeps, for a server, the keys of file_indicators and
// object_stats in memory (keyFilter), in step with the database through
// key_generation: every transaction that adds keys raises it.
//
// A lookup reads the generation first (one row). When the filter covers
// that generation, SQLite is asked only about the keys the filter may
// hold; else about every key, as before the filter, while a rebuild runs
// in the background. A lookup is thus exact as of its reading of the
// generation: an import, an override or a submission committed before it,
// by any process, is seen.
//
// This process's own submissions keep the filter current without a
// rebuild: their new keys go into pending, tagged with the generation
// their transaction took, before it commits; once it has, the filter
// covers that generation too, if it covered the one before. (A
// transaction that rolls back leaves its keys in pending: a filter may
// hold keys the database does not, never the reverse.)
type serverFilter struct {
	fp  fingerprints
	gen lazyStmt

	mu       sync.RWMutex
	base     *keyFilter                  // nil until first built
	algs     map[checksum.Algorithm]bool // the algorithms of base's indicators: no other digest is looked for
	covers   int64                       // the generation base and pending cover
	pending  map[uint64]int64            // keys added by this process since base was read, by generation
	building bool
	next     time.Time // no rebuild starts before this
	closed   bool
	wg       sync.WaitGroup
	ctx      context.Context
	cancel   context.CancelFunc
}

const (
	// rebuildPause is how long after a rebuild the next may start, in
	// multiples of how long it took: a database that another process
	// keeps changing spends at most a fifth of a core on rebuilds, and is
	// meanwhile served by SQLite alone.
	rebuildPause = 4
	// minCompact is how many pending keys justify a rebuild that folds
	// them into the base (or a quarter of the base, if more).
	minCompact = 1 << 16
)

func (f *serverFilter) init() {
	f.fp = newFingerprints()
	f.gen.query = `SELECT n FROM key_generation WHERE id = 1`
	f.pending = map[uint64]int64{}
	f.ctx, f.cancel = context.WithCancel(context.Background())
}

// probe calls fn with the filter's membership test when the filter covers
// the database's generation, and reports whether it did; it does not
// when the filter is stale or still being built (and has it rebuilt).
func (f *serverFilter) probe(ctx context.Context, s *Server, fn func(has func(uint64) bool)) bool {
	st, err := f.gen.get(s.db)
	if err != nil {
		return false
	}
	var gen int64
	if err := st.QueryRowContext(ctx).Scan(&gen); err != nil {
		return false // the lookup itself will say what is wrong
	}
	f.mu.RLock()
	ok := f.base != nil && f.covers == gen
	if ok {
		fn(func(fp uint64) bool {
			if f.base.has(fp) {
				return true
			}
			_, ok := f.pending[fp]
			return ok
		})
	}
	f.mu.RUnlock()
	if !ok {
		f.startRebuild(s)
	}
	return ok
}

// adding raises the generation in tx, which adds the keys fps, and puts
// them in pending. It returns the generation tx took, for added.
func (f *serverFilter) adding(ctx context.Context, tx *sql.Tx, fps []uint64) (int64, error) {
	gen, err := bumpKeyGeneration(ctx, tx)
	if err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.base != nil { // before the first build, the build reads them
		for _, fp := range fps {
			f.pending[fp] = gen
		}
	}
	return gen, nil
}

// added notes that the transaction that took generation gen committed.
func (f *serverFilter) added(s *Server, gen int64) {
	f.mu.Lock()
	if f.base != nil && f.covers == gen-1 {
		f.covers = gen
	}
	// Only a built filter has pending keys.
	compact := f.base != nil && len(f.pending) > max(minCompact, len(f.base.keys)/4)
	f.mu.Unlock()
	if compact {
		f.startRebuild(s)
	}
}

func (f *serverFilter) startRebuild(s *Server) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.building || f.closed || time.Now().Before(f.next) {
		return
	}
	f.building = true
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		start := time.Now()
		base, algs, gen, err := f.read(f.ctx, s.db)
		if err == nil {
			f.install(base, algs, gen)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.building = false
		f.next = time.Now().Add(rebuildPause * time.Since(start))
	}()
}

// WarmLookups builds the key filter now, unless it is current, and
// returns how many keys it holds.
func (s *Server) WarmLookups(ctx context.Context) (int, error) {
	f := &s.filter
	for !f.probe(ctx, s, func(func(uint64) bool) {}) {
		f.mu.RLock()
		building := f.building
		f.mu.RUnlock()
		if !building {
			base, algs, gen, err := f.read(ctx, s.db)
			if err != nil {
				return 0, err
			}
			f.install(base, algs, gen)
			continue
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.base.keys) + len(f.pending), nil
}

// install makes base, read at generation gen, the filter's.
func (f *serverFilter) install(base *keyFilter, algs map[checksum.Algorithm]bool, gen int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.base, f.algs = base, algs
	f.covers = max(f.covers, gen)
	for fp, g := range f.pending {
		if g <= gen {
			delete(f.pending, fp)
		}
	}
}

// read reads every key, the algorithms of the indicators and the
// generation in one read transaction.
func (f *serverFilter) read(ctx context.Context, db *sql.DB) (_ *keyFilter, algs map[checksum.Algorithm]bool, gen int64, err error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, 0, err
	}
	defer tx.Rollback()
	var files, objects int64
	err = tx.QueryRowContext(ctx, `SELECT (SELECT n FROM key_generation WHERE id = 1),
	(SELECT count(*) FROM file_indicators), (SELECT count(*) FROM object_stats)`).Scan(&gen, &files, &objects)
	if err != nil {
		return nil, nil, 0, err
	}
	fps := make([]uint64, 0, files+objects)
	algs = map[checksum.Algorithm]bool{}
	err = eachRow(ctx, tx, `SELECT algorithm, digest FROM file_indicators`, nil, func(r *sql.Rows) error {
		var alg string
		var digest []byte
		err := r.Scan(&alg, &digest)
		algs[checksum.Algorithm(alg)] = true
		fps = append(fps, f.fp.file(checksum.Algorithm(alg), digest))
		return err
	})
	if err != nil {
		return nil, nil, 0, err
	}
	err = eachRow(ctx, tx, `SELECT kind, object FROM object_stats`, nil, func(r *sql.Rows) error {
		var kind string
		var object []byte
		err := r.Scan(&kind, &object)
		fps = append(fps, f.fp.object(kind, object))
		return err
	})
	if err != nil {
		return nil, nil, 0, err
	}
	return newKeyFilter(fps), algs, gen, nil
}

// close stops a rebuild in flight and waits for it.
func (f *serverFilter) close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	if f.cancel != nil {
		f.cancel()
	}
	f.wg.Wait()
	return f.gen.close()
}

// bumpKeyGeneration raises the generation in a transaction that adds
// keys, so that every server's filter stops answering until it has read
// them, and returns the generation the transaction took.
func bumpKeyGeneration(ctx context.Context, tx *sql.Tx) (gen int64, err error) {
	if err := tx.QueryRowContext(ctx, `UPDATE key_generation SET n = n + 1 WHERE id = 1 RETURNING n`).Scan(&gen); err != nil {
		return 0, fmt.Errorf("key generation: %w", err)
	}
	return gen, nil
}

// LookupFiles is Store.LookupFiles, asking SQLite only about the files
// whose digests the filter may hold.
func (s *Server) LookupFiles(ctx context.Context, files []FileDigests) ([]reputation.Result, error) {
	results, _, err := s.LookupFilesWithStats(ctx, files, "", nil)
	return results, err
}

// ObjectStats is ServerStore.ObjectStats, asking SQLite only about the
// objects the filter may hold.
func (s *Server) ObjectStats(ctx context.Context, kind string, objects [][]byte) (map[string]ObjectStat, error) {
	_, stats, err := s.LookupFilesWithStats(ctx, nil, kind, objects)
	return stats, err
}

// LookupFilesWithStats is LookupFiles of files and ObjectStats of objects
// of kind, with one reading of the key generation for both: what a
// lookup with prevalence needs.
func (s *Server) LookupFilesWithStats(ctx context.Context, files []FileDigests, kind string, objects [][]byte) ([]reputation.Result, map[string]ObjectStat, error) {
	var askFiles []int // indexes of the files SQLite is asked about
	var askObjects [][]byte
	if !s.filter.probe(ctx, s, func(has func(uint64) bool) {
		for i, f := range files {
			if s.filter.mayMatch(has, f) {
				askFiles = append(askFiles, i)
			}
		}
		for _, o := range objects {
			if has(s.filter.fp.object(kind, o)) {
				askObjects = append(askObjects, o)
			}
		}
	}) {
		return s.unfiltered(ctx, files, kind, objects)
	}
	results := make([]reputation.Result, len(files))
	for i := range results {
		results[i].Verdict = reputation.Unknown
	}
	if len(askFiles) > 0 {
		some := make([]FileDigests, len(askFiles))
		for j, i := range askFiles {
			some[j] = files[i]
		}
		found, err := s.sqliteDB.LookupFiles(ctx, some)
		if err != nil {
			return nil, nil, err
		}
		for j, i := range askFiles {
			results[i] = found[j]
		}
	}
	stats := map[string]ObjectStat{}
	if len(askObjects) > 0 {
		var err error
		if stats, err = s.objectStats(ctx, kind, askObjects); err != nil {
			return nil, nil, err
		}
	}
	return results, stats, nil
}

// unfiltered is LookupFilesWithStats asking SQLite about everything.
func (s *Server) unfiltered(ctx context.Context, files []FileDigests, kind string, objects [][]byte) ([]reputation.Result, map[string]ObjectStat, error) {
	results := []reputation.Result{}
	if len(files) > 0 {
		var err error
		if results, err = s.sqliteDB.LookupFiles(ctx, files); err != nil {
			return nil, nil, err
		}
	}
	stats, err := s.objectStats(ctx, kind, objects)
	if err != nil {
		return nil, nil, err
	}
	return results, stats, nil
}

// mayMatch reports whether an indicator may match one of a file's
// digests. A digest of an unknown algorithm may: the database's own
// lookup refuses it.
func (f *serverFilter) mayMatch(has func(uint64) bool, d FileDigests) bool {
	for alg, digest := range d {
		switch {
		case !alg.Valid():
			return true
		case !f.algs[alg] || len(digest) != alg.Size():
			// no indicator is keyed by alg; or, as LookupFiles has it,
			// a digest of the wrong length matches nothing
		case has(f.fp.file(alg, digest)):
			return true
		}
	}
	return false
}
