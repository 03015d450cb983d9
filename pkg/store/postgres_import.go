package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// pgImportBatch is how many indicators a PostgreSQL import writes at a
// time: larger than SQLite's (importBatch), since every flush is a round
// trip over the network, and arrays cost no extra parameters.
const pgImportBatch = 4096

// BeginImport is Store.BeginImport, with the same promises as the SQLite
// one: nothing is visible before Commit, and the counts of an import are
// exact. Two imports of one source (from two operators, or two machines)
// run one after the other: the second waits on an advisory lock.
func (s *PostgresServer) BeginImport(ctx context.Context, source string) (Importer, error) {
	if err := validSource(source); err != nil {
		return nil, fmt.Errorf("begin import: %w", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin import from %s: %w", source, err)
	}
	h := fnv.New32a()
	h.Write([]byte(source))
	im := &pgImporter{ctx: ctx, tx: tx, source: source, now: s.now().Unix(), clock: s.now,
		index: make(map[digestKey]struct{}, pgImportBatch), urlIndex: make(map[URLHash]struct{})}
	err = func() error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, pgLockImport, int32(h.Sum32())); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO imports (source, started_at) VALUES ($1, $2) RETURNING id`, source, im.now).Scan(&im.importID)
	}()
	if err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("begin import from %s: %w", source, err)
	}
	return im, nil
}

type pgImporter struct {
	ctx      context.Context
	tx       pgx.Tx
	source   string
	now      int64
	clock    func() time.Time
	importID int64

	batch    []reputation.FileIndicator
	index    map[digestKey]struct{}
	urls     []reputation.URLIndicator
	urlIndex map[URLHash]struct{}

	stats  ImportStats
	err    error
	closed bool
}

// Add is Importer.Add.
func (im *pgImporter) Add(ind reputation.FileIndicator) error {
	if err := im.usable(); err != nil {
		return err
	}
	if err := validIndicator(ind); err != nil {
		return fmt.Errorf("import from %s: %w", im.source, err)
	}
	k := digestKey{ind.Algorithm, string(ind.Digest)}
	if _, dup := im.index[k]; dup {
		return nil // the first statement of a key counts
	}
	ind.Digest = bytes.Clone(ind.Digest)
	ind.Size = max(ind.Size, -1)
	im.index[k] = struct{}{}
	im.batch = append(im.batch, ind)
	if len(im.batch) >= pgImportBatch {
		return im.flush()
	}
	return nil
}

// AddURL is Importer.AddURL.
func (im *pgImporter) AddURL(ind reputation.URLIndicator) error {
	if err := im.usable(); err != nil {
		return err
	}
	if err := validURLIndicator(ind); err != nil {
		return fmt.Errorf("import from %s: %w", im.source, err)
	}
	if _, dup := im.urlIndex[ind.Hash]; dup {
		return nil
	}
	im.urlIndex[ind.Hash] = struct{}{}
	im.urls = append(im.urls, ind)
	if len(im.urls) >= pgImportBatch {
		return im.flush()
	}
	return nil
}

func (im *pgImporter) usable() error {
	if im.closed {
		return errors.New("import: Add after Commit or Rollback")
	}
	return im.err
}

// flush writes what is buffered; an error ends the import.
func (im *pgImporter) flush() error {
	if im.err != nil {
		return im.err
	}
	if err := im.flushFiles(); err != nil {
		im.err = fmt.Errorf("import from %s: %w", im.source, err)
		return im.err
	}
	if err := im.flushURLs(); err != nil {
		im.err = fmt.Errorf("import from %s: %w", im.source, err)
		return im.err
	}
	return nil
}

func (im *pgImporter) flushFiles() error {
	if len(im.batch) == 0 {
		return nil
	}
	// What the source said before about the keys of the batch.
	algs := make([]string, len(im.batch))
	digests := make([][]byte, len(im.batch))
	for i, ind := range im.batch {
		algs[i], digests[i] = string(ind.Algorithm), ind.Digest
	}
	rows, err := im.tx.Query(im.ctx, `SELECT f.algorithm, f.digest, f.size, f.verdict, f.threat_name, f.category, f.first_seen, f.import_id
FROM unnest($1::text[], $2::bytea[]) AS q(algorithm, digest)
JOIN file_indicators f ON f.algorithm = q.algorithm AND f.digest = q.digest AND f.source = $3`, algs, digests, im.source)
	if err != nil {
		return err
	}
	before := make(map[digestKey]storedIndicator, len(im.batch))
	var (
		alg, verdict, threat, category string
		digest                         []byte
		size                           int64
		firstSeen, importID            *int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&alg, &digest, &size, &verdict, &threat, &category, &firstSeen, &importID}, func() error {
		old := storedIndicator{size: size, verdict: verdict, threatName: threat, category: category}
		if firstSeen != nil {
			old.firstSeen.Int64, old.firstSeen.Valid = *firstSeen, true
		}
		if importID != nil {
			old.importID.Int64, old.importID.Valid = *importID, true
		}
		before[digestKey{checksum.Algorithm(alg), string(digest)}] = old
		return nil
	}); err != nil {
		return err
	}

	var c pgColumns
	for _, ind := range im.batch {
		old, ok := before[digestKey{ind.Algorithm, string(ind.Digest)}]
		switch {
		case !ok:
			im.stats.Added++
		case old.importID.Valid && old.importID.Int64 == im.importID:
			continue // stated earlier in this import: the first statement counts
		case changed(old, ind):
			im.stats.Updated++
		default:
			im.stats.Unchanged++
		}
		c.add(string(ind.Algorithm), ind.Digest, ind.Size, string(ind.Verdict), ind.ThreatName, ind.Category, ind.FirstSeen.IsZero(), ind.FirstSeen.Unix())
	}
	im.batch = im.batch[:0]
	clear(im.index)
	if len(c.keys) == 0 {
		return nil
	}
	_, err = im.tx.Exec(im.ctx, `INSERT INTO file_indicators (`+indicatorColumns+`)
SELECT a, d, $3, s, v, t, c, f, $4, $4, $5 FROM unnest($1::text[], $2::bytea[], $6::int8[], $7::text[], $8::text[], $9::text[], $10::int8[]) AS r(a, d, s, v, t, c, f)
ON CONFLICT (algorithm, digest, source) DO UPDATE SET
	size        = CASE WHEN excluded.size < 0 THEN file_indicators.size ELSE excluded.size END,
	verdict     = excluded.verdict,
	threat_name = excluded.threat_name,
	category    = excluded.category,
	first_seen  = COALESCE(excluded.first_seen, file_indicators.first_seen),
	last_seen   = excluded.last_seen,
	import_id   = excluded.import_id`,
		c.keys, c.digests, im.source, im.now, im.importID, c.sizes, c.verdicts, c.threats, c.categories, c.firstSeen)
	return err
}

// pgColumns are the rows of one write, column by column (unnest's arrays).
type pgColumns struct {
	keys                          []string
	digests                       [][]byte
	sizes                         []int64
	verdicts, threats, categories []string
	firstSeen                     []*int64
}

func (c *pgColumns) add(key string, digest []byte, size int64, verdict, threat, category string, noFirstSeen bool, firstSeen int64) {
	c.keys, c.digests, c.sizes = append(c.keys, key), append(c.digests, digest), append(c.sizes, size)
	c.verdicts, c.threats, c.categories = append(c.verdicts, verdict), append(c.threats, threat), append(c.categories, category)
	if noFirstSeen {
		c.firstSeen = append(c.firstSeen, nil)
	} else {
		c.firstSeen = append(c.firstSeen, &firstSeen)
	}
}

func (im *pgImporter) flushURLs() error {
	if len(im.urls) == 0 {
		return nil
	}
	hashes := make([][]byte, len(im.urls))
	for i := range im.urls {
		hashes[i] = im.urls[i].Hash[:]
	}
	rows, err := im.tx.Query(im.ctx, `SELECT hash, verdict, threat_name, category, first_seen, import_id FROM url_indicators
WHERE source = $1 AND hash = ANY($2::bytea[])`, im.source, hashes)
	if err != nil {
		return err
	}
	before := make(map[URLHash]storedURL)
	var (
		h                         []byte
		verdict, threat, category string
		firstSeen, importID       *int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&h, &verdict, &threat, &category, &firstSeen, &importID}, func() error {
		old := storedURL{verdict: verdict, threatName: threat, category: category}
		if firstSeen != nil {
			old.firstSeen.Int64, old.firstSeen.Valid = *firstSeen, true
		}
		if importID != nil {
			old.importID.Int64, old.importID.Valid = *importID, true
		}
		if len(h) == len(URLHash{}) {
			before[URLHash(h)] = old
		}
		return nil
	}); err != nil {
		return err
	}
	var c pgColumns
	for _, ind := range im.urls {
		old, ok := before[ind.Hash]
		switch {
		case !ok:
			im.stats.Added++
		case old.importID.Valid && old.importID.Int64 == im.importID:
			continue
		case old.verdict != string(ind.Verdict) || old.threatName != ind.ThreatName || old.category != ind.Category ||
			!ind.FirstSeen.IsZero() && (!old.firstSeen.Valid || old.firstSeen.Int64 != ind.FirstSeen.Unix()):
			im.stats.Updated++
		default:
			im.stats.Unchanged++
		}
		c.add(ind.Expression, bytes.Clone(ind.Hash[:]), 0, string(ind.Verdict), ind.ThreatName, ind.Category, ind.FirstSeen.IsZero(), ind.FirstSeen.Unix())
	}
	im.urls = im.urls[:0]
	clear(im.urlIndex)
	if len(c.keys) == 0 {
		return nil
	}
	_, err = im.tx.Exec(im.ctx, `INSERT INTO url_indicators (hash, source, expression, verdict, threat_name, category, first_seen, added_at, last_seen, import_id)
SELECT d, $3, e, v, t, c, f, $4, $4, $5 FROM unnest($1::text[], $2::bytea[], $6::text[], $7::text[], $8::text[], $9::int8[]) AS r(e, d, v, t, c, f)
ON CONFLICT (hash, source) DO UPDATE SET
	expression  = excluded.expression,
	verdict     = excluded.verdict,
	threat_name = excluded.threat_name,
	category    = excluded.category,
	first_seen  = COALESCE(excluded.first_seen, url_indicators.first_seen),
	last_seen   = excluded.last_seen,
	import_id   = excluded.import_id`,
		c.keys, c.digests, im.source, im.now, im.importID, c.verdicts, c.threats, c.categories, c.firstSeen)
	return err
}

// Commit is Importer.Commit.
func (im *pgImporter) Commit() (ImportStats, error) {
	if im.closed {
		return ImportStats{}, errors.New("import: Commit after Commit or Rollback")
	}
	if err := im.flush(); err != nil {
		im.Rollback()
		return ImportStats{}, err
	}
	if _, err := im.tx.Exec(im.ctx, `UPDATE imports SET finished_at = $1, added = $2, updated = $3, unchanged = $4 WHERE id = $5`,
		im.clock().Unix(), im.stats.Added, im.stats.Updated, im.stats.Unchanged, im.importID); err != nil {
		im.Rollback()
		return ImportStats{}, fmt.Errorf("import from %s: %w", im.source, err)
	}
	im.closed = true
	if err := im.tx.Commit(im.ctx); err != nil {
		return ImportStats{}, fmt.Errorf("import from %s: commit: %w", im.source, err)
	}
	return im.stats, nil
}

// Rollback is Importer.Rollback: safe after Commit and repeated.
func (im *pgImporter) Rollback() error {
	if im.closed {
		return nil
	}
	im.closed = true
	err := im.tx.Rollback(context.WithoutCancel(im.ctx))
	if errors.Is(err, pgx.ErrTxClosed) {
		err = nil
	}
	return err
}
