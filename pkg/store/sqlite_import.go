package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// importBatch is how many indicators an Importer buffers before it writes
// them: one statement reads the rows they may replace, one multi-row upsert
// writes them.
const importBatch = 256

// maxSourceLen bounds a source name.
const maxSourceLen = 64

const indicatorColumns = `algorithm, digest, source, size, verdict, threat_name, category, first_seen, added_at, last_seen, import_id`

// upsertSQL writes n indicators (11 parameters each, in indicatorColumns
// order). A row that exists keeps its added_at, and keeps its first_seen
// and size when the source does not state them.
func upsertSQL(n int) string {
	row := "(" + placeholders(11) + ")"
	return `INSERT INTO file_indicators (` + indicatorColumns + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(row+",", n), ",") + `
ON CONFLICT (algorithm, digest, source) DO UPDATE SET
	size        = CASE WHEN excluded.size < 0 THEN file_indicators.size ELSE excluded.size END,
	verdict     = excluded.verdict,
	threat_name = excluded.threat_name,
	category    = excluded.category,
	first_seen  = COALESCE(excluded.first_seen, file_indicators.first_seen),
	last_seen   = excluded.last_seen,
	import_id   = excluded.import_id`
}

// existingSQL reads the rows of one source that a batch of digests of one
// algorithm may replace; like lookupSQL, it has a fixed number of digest
// parameters, padded with empty digests.
var existingSQL = `SELECT digest, size, verdict, threat_name, category, first_seen, import_id
FROM file_indicators
WHERE algorithm = ? AND source = ? AND digest IN (` + placeholders(importBatch) + `)`

// BeginImport starts an import from the named source.
//
// The import is one write transaction: nothing of it is visible to lookups
// before Commit, and Rollback (or a failed Commit, or the end of ctx)
// leaves the database as it was. Indicators are buffered importBatch at a
// time and written with prepared multi-row statements, so memory stays
// bounded whatever the size of the feed; SQLite spills a large
// transaction to the -wal file, not to memory. Lookups (other connections,
// other processes) go on reading the last committed state meanwhile;
// another writer (a second import, an override) waits for the import up to
// the busy timeout (10 s), then fails with "database is locked".
//
// The key of an indicator is (source, algorithm, digest). Compared with
// what the source said before, an indicator is Added when new, Updated
// when its verdict, threat name, category, or a size or first-seen time
// the source states differs, and Unchanged otherwise. Every indicator of
// the import gets its last-seen time set to the start of the import. When
// one import states the same key twice, the first statement counts and the
// later ones are ignored. Indicators the source no longer states are kept.
//
// The reserved sources reputation.OverrideSource and
// reputation.BaselineSource cannot be imported.
func (s *sqliteDB) BeginImport(ctx context.Context, source string) (Importer, error) {
	if err := validSource(source); err != nil {
		return nil, fmt.Errorf("begin import: %w", err)
	}
	// A connection of its own, for its larger page cache.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin import from %s: %w", source, err)
	}
	var cache, tempStore int64
	if err := conn.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil {
		conn.Close()
		return nil, fmt.Errorf("begin import from %s: %w", source, err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&tempStore); err != nil {
		conn.Close()
		return nil, fmt.Errorf("begin import from %s: %w", source, err)
	}
	release := func() {
		// Give the memory back before the connection returns to the pool.
		conn.ExecContext(context.Background(), fmt.Sprintf("PRAGMA cache_size = %d; PRAGMA temp_store = %d", cache, tempStore))
		conn.Close()
	}
	// A larger page cache (see importCacheKiB), and the statement journals
	// of the multi-row upserts (the pages a failing statement would have to
	// restore, a few hundred KiB) in memory rather than in a temporary file.
	_, err = conn.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d; PRAGMA temp_store = MEMORY", -importCacheKiB))
	if err != nil {
		release()
		return nil, fmt.Errorf("begin import from %s: %w", source, err)
	}
	tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		release()
		return nil, fmt.Errorf("begin import from %s: %w", source, explainWrite(err))
	}
	im := &sqliteImporter{
		ctx:     ctx,
		tx:      tx,
		release: release,
		source:  source,
		clock:   s.now,
		now:     s.now().Unix(),
		index:   make(map[digestKey]struct{}, importBatch),
		batch:   make([]reputation.FileIndicator, 0, importBatch),
	}
	if err := im.start(); err != nil {
		tx.Rollback()
		release()
		return nil, fmt.Errorf("begin import from %s: %w", source, explainWrite(err))
	}
	return im, nil
}

// validSource accepts a feed name: 1 to 64 printable characters without
// spaces, and not a reserved name.
func validSource(source string) error {
	if source == "" {
		return errors.New("empty source name")
	}
	if len(source) > maxSourceLen {
		return fmt.Errorf("source name %q is longer than %d bytes", source, maxSourceLen)
	}
	for _, r := range source {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return fmt.Errorf("source name %q contains a space or a non-printable character", source)
		}
	}
	if source == reputation.OverrideSource || source == reputation.BaselineSource {
		return fmt.Errorf("source name %q is reserved", source)
	}
	return nil
}

// validIndicator checks what the database requires of an indicator.
func validIndicator(ind reputation.FileIndicator) error {
	if !ind.Algorithm.Valid() {
		return fmt.Errorf("unknown digest algorithm %q", ind.Algorithm)
	}
	if len(ind.Digest) != ind.Algorithm.Size() {
		return fmt.Errorf("%s digest is %d bytes long, want %d", ind.Algorithm, len(ind.Digest), ind.Algorithm.Size())
	}
	switch ind.Verdict {
	case reputation.Unknown, reputation.Clean, reputation.Suspicious, reputation.Malicious:
	default:
		return fmt.Errorf("invalid verdict %q", ind.Verdict)
	}
	return nil
}

type sqliteImporter struct {
	ctx      context.Context
	tx       *sql.Tx
	release  func() // restores and returns the connection, once tx is done
	source   string
	clock    func() time.Time
	now      int64 // start of the import, Unix seconds
	importID int64

	existing *sql.Stmt
	upserts  map[int]*sql.Stmt // by row count: importBatch and powers of two below

	batch []reputation.FileIndicator
	index map[digestKey]struct{} // the keys in batch

	urls     []reputation.URLIndicator // see AddURL
	urlIndex map[URLHash]struct{}

	stats  ImportStats
	err    error // sticky: the transaction is unusable
	closed bool
}

func (im *sqliteImporter) start() error {
	res, err := im.tx.ExecContext(im.ctx, `INSERT INTO imports (source, started_at) VALUES (?, ?)`, im.source, im.now)
	if err != nil {
		return err
	}
	if im.importID, err = res.LastInsertId(); err != nil {
		return err
	}
	if im.existing, err = im.tx.PrepareContext(im.ctx, existingSQL); err != nil {
		return err
	}
	im.upserts = make(map[int]*sql.Stmt)
	return nil
}

// Add buffers one indicator. An invalid indicator is rejected with an
// error and the import goes on; an error of the database ends the import
// (Commit then fails and rolls back).
func (im *sqliteImporter) Add(ind reputation.FileIndicator) error {
	if im.closed {
		return errors.New("import: Add after Commit or Rollback")
	}
	if im.err != nil {
		return im.err
	}
	if err := validIndicator(ind); err != nil {
		return fmt.Errorf("import from %s: %w", im.source, err)
	}
	k := digestKey{ind.Algorithm, string(ind.Digest)}
	if _, dup := im.index[k]; dup {
		return nil // the first statement of a key counts
	}
	ind.Digest = bytes.Clone(ind.Digest)
	if ind.Size < 0 {
		ind.Size = -1
	}
	im.index[k] = struct{}{}
	im.batch = append(im.batch, ind)
	if len(im.batch) >= importBatch {
		return im.flush()
	}
	return nil
}

type storedIndicator struct {
	size       int64
	verdict    string
	threatName string
	category   string
	firstSeen  sql.NullInt64
	importID   sql.NullInt64
}

// flush writes the buffered indicators and counts what they change.
func (im *sqliteImporter) flush() error {
	if im.err != nil {
		return im.err
	}
	if len(im.batch) == 0 {
		return nil
	}
	if err := im.flushBatch(); err != nil {
		im.err = fmt.Errorf("import from %s: %w", im.source, explainWrite(err))
		return im.err
	}
	im.batch = im.batch[:0]
	clear(im.index)
	return nil
}

func (im *sqliteImporter) flushBatch() error {
	// What the source said before about the keys of the batch.
	before := make(map[digestKey]storedIndicator, len(im.batch))
	byAlg := make(map[checksum.Algorithm][][]byte)
	for _, ind := range im.batch {
		byAlg[ind.Algorithm] = append(byAlg[ind.Algorithm], ind.Digest)
	}
	args := make([]any, 2+importBatch)
	empty := []byte{}
	for alg, digests := range byAlg {
		args[0], args[1] = string(alg), im.source
		for i := range importBatch {
			if i < len(digests) {
				args[2+i] = digests[i]
			} else {
				args[2+i] = empty
			}
		}
		if err := im.readExisting(alg, args, before); err != nil {
			return err
		}
	}

	// Classify, and collect the rows to write.
	var stats ImportStats
	rows := make([]any, 0, 11*len(im.batch))
	n := 0
	for _, ind := range im.batch {
		k := digestKey{ind.Algorithm, string(ind.Digest)}
		old, ok := before[k]
		switch {
		case !ok:
			stats.Added++
		case old.importID.Valid && old.importID.Int64 == im.importID:
			continue // stated earlier in this import: the first statement counts
		case changed(old, ind):
			stats.Updated++
		default:
			stats.Unchanged++
		}
		var firstSeen any
		if !ind.FirstSeen.IsZero() {
			firstSeen = ind.FirstSeen.Unix()
		}
		rows = append(rows, string(ind.Algorithm), ind.Digest, im.source, ind.Size, string(ind.Verdict),
			ind.ThreatName, ind.Category, firstSeen, im.now, im.now, im.importID)
		n++
	}

	// Write them, in statements of importBatch rows, then of powers of two,
	// so that a handful of prepared statements serve every batch size.
	for n > 0 {
		size := importBatch
		for size > n {
			size /= 2
		}
		stmt, err := im.upsertStmt(size)
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(im.ctx, rows[:11*size]...); err != nil {
			return err
		}
		rows = rows[11*size:]
		n -= size
	}
	im.stats.Added += stats.Added
	im.stats.Updated += stats.Updated
	im.stats.Unchanged += stats.Unchanged
	return nil
}

func (im *sqliteImporter) readExisting(alg checksum.Algorithm, args []any, before map[digestKey]storedIndicator) error {
	rows, err := im.existing.QueryContext(im.ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			digest []byte
			old    storedIndicator
		)
		if err := rows.Scan(&digest, &old.size, &old.verdict, &old.threatName, &old.category, &old.firstSeen, &old.importID); err != nil {
			return err
		}
		before[digestKey{alg, string(digest)}] = old
	}
	return rows.Err()
}

// changed reports whether writing ind over old changes what the source
// says. A size or first-seen time the source does not state keeps the
// stored one, so it is no change.
func changed(old storedIndicator, ind reputation.FileIndicator) bool {
	if old.verdict != string(ind.Verdict) || old.threatName != ind.ThreatName || old.category != ind.Category {
		return true
	}
	if ind.Size >= 0 && ind.Size != old.size {
		return true
	}
	if !ind.FirstSeen.IsZero() && (!old.firstSeen.Valid || old.firstSeen.Int64 != ind.FirstSeen.Unix()) {
		return true
	}
	return false
}

func (im *sqliteImporter) upsertStmt(n int) (*sql.Stmt, error) {
	if st, ok := im.upserts[n]; ok {
		return st, nil
	}
	st, err := im.tx.PrepareContext(im.ctx, upsertSQL(n))
	if err != nil {
		return nil, err
	}
	im.upserts[n] = st
	return st, nil
}

// Commit writes what is buffered, records the import and makes it visible.
func (im *sqliteImporter) Commit() (ImportStats, error) {
	if im.closed {
		return ImportStats{}, errors.New("import: Commit after Commit or Rollback")
	}
	if err := im.flush(); err != nil {
		im.Rollback()
		return ImportStats{}, err
	}
	if err := im.flushURLs(); err != nil {
		im.Rollback()
		return ImportStats{}, err
	}
	_, err := im.tx.ExecContext(im.ctx,
		`UPDATE imports SET finished_at = ?, added = ?, updated = ?, unchanged = ? WHERE id = ?`,
		im.clock().Unix(), im.stats.Added, im.stats.Updated, im.stats.Unchanged, im.importID)
	if err != nil {
		im.Rollback()
		return ImportStats{}, fmt.Errorf("import from %s: %w", im.source, explainWrite(err))
	}
	if im.stats.Added > 0 {
		if _, err := bumpKeyGeneration(im.ctx, im.tx); err != nil {
			im.Rollback()
			return ImportStats{}, fmt.Errorf("import from %s: %w", im.source, explainWrite(err))
		}
	}
	im.closed = true
	err = im.tx.Commit()
	im.release()
	if err != nil {
		return ImportStats{}, fmt.Errorf("import from %s: commit: %w", im.source, explainWrite(err))
	}
	return im.stats, nil
}

// Rollback abandons the import. It is safe after Commit and repeated.
func (im *sqliteImporter) Rollback() error {
	if im.closed {
		return nil
	}
	im.closed = true
	err := im.tx.Rollback()
	im.release()
	if errors.Is(err, sql.ErrTxDone) {
		err = nil // ended with its context
	}
	return err
}
