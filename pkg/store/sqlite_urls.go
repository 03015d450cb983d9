package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ksnproject/ksn/pkg/reputation"
)

// URL indicators (migrations/00006_url_indicators.sql) are keyed by the
// SHA-256 of one Safe Browsing expression; see reputation.URLIndicator.

const urlColumns = `hash, source, expression, verdict, threat_name, category, first_seen, added_at, last_seen, import_id`

// urlLookupSQL has exactly lookupChunk hash parameters, padded with empty
// blobs, so that one prepared statement serves every chunk.
var urlLookupSQL = `SELECT ` + urlColumns + ` FROM url_indicators WHERE hash IN (` + placeholders(lookupChunk) + `)`

// urlStmts are the link statements: a check of files never needs them,
// and the server needs them on every link lookup.
type urlStmts struct {
	byHash, bounded, last lazyStmt
}

func (u *urlStmts) name() {
	u.byHash.query = urlLookupSQL
	u.bounded.query = `SELECT ` + urlColumns + ` FROM url_indicators WHERE hash >= ? AND hash < ?`
	u.last.query = `SELECT ` + urlColumns + ` FROM url_indicators WHERE hash >= ?`
}

// URLHash is the SHA-256 of an expression.
type URLHash = [32]byte

// URLPrefix is the first four bytes of a URLHash: all a client sends.
type URLPrefix = [4]byte

// LookupURLs returns the indicators of every hash the database knows, by
// hash. A hash nobody lists is absent from the map. All chunks of one call
// read one snapshot.
func (s *sqliteDB) LookupURLs(ctx context.Context, hashes []URLHash) (map[URLHash][]reputation.URLSourced, error) {
	found := make(map[URLHash][]reputation.URLSourced)
	if len(hashes) == 0 {
		return found, nil
	}
	keys := slices.Clone(hashes)
	slices.SortFunc(keys, func(a, b URLHash) int { return bytes.Compare(a[:], b[:]) })
	keys = slices.Compact(keys)
	byHash, err := s.urls.byHash.get(s.db)
	if err != nil {
		return nil, fmt.Errorf("lookup urls: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("lookup urls: %w", err)
	}
	defer tx.Rollback()
	stmt := tx.StmtContext(ctx, byHash)
	defer stmt.Close()
	args := make([]any, lookupChunk)
	for len(keys) > 0 {
		n := min(len(keys), lookupChunk)
		for i := range lookupChunk {
			if i < n {
				args[i] = keys[i][:]
			} else {
				args[i] = []byte{}
			}
		}
		keys = keys[n:]
		if err := scanURLIndicators(ctx, stmt, args, found); err != nil {
			return nil, fmt.Errorf("lookup urls: %w", err)
		}
	}
	return found, nil
}

// URLsByPrefix returns every indicator whose hash begins with one of the
// prefixes: what the server answers a client that sent only prefixes. Each
// prefix is one range scan of the primary key.
func (s *sqliteDB) URLsByPrefix(ctx context.Context, prefixes []URLPrefix) (map[URLHash][]reputation.URLSourced, error) {
	found := make(map[URLHash][]reputation.URLSourced)
	if len(prefixes) == 0 {
		return found, nil
	}
	boundedStmt, err := s.urls.bounded.get(s.db)
	if err != nil {
		return nil, fmt.Errorf("lookup url prefixes: %w", err)
	}
	lastStmt, err := s.urls.last.get(s.db)
	if err != nil {
		return nil, fmt.Errorf("lookup url prefixes: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("lookup url prefixes: %w", err)
	}
	defer tx.Rollback()
	bounded := tx.StmtContext(ctx, boundedStmt)
	defer bounded.Close()
	last := tx.StmtContext(ctx, lastStmt)
	defer last.Close()
	seen := make(map[URLPrefix]bool, len(prefixes))
	for _, p := range prefixes {
		if seen[p] {
			continue
		}
		seen[p] = true
		// A 4-byte blob sorts before every longer blob it begins; the next
		// prefix after it bounds the range, except after ff ff ff ff.
		lo := p[:]
		next := binary.BigEndian.Uint32(lo) + 1
		if next == 0 {
			err = scanURLIndicators(ctx, last, []any{lo}, found)
		} else {
			err = scanURLIndicators(ctx, bounded, []any{lo, binary.BigEndian.AppendUint32(nil, next)}, found)
		}
		if err != nil {
			return nil, fmt.Errorf("lookup url prefixes: %w", err)
		}
	}
	return found, nil
}

func scanURLIndicators(ctx context.Context, stmt *sql.Stmt, args []any, found map[URLHash][]reputation.URLSourced) error {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			hash              []byte
			u                 reputation.URLSourced
			verdict           string
			firstSeen         sql.NullInt64
			addedAt, lastSeen int64
			importID          sql.NullInt64
		)
		if err := rows.Scan(&hash, &u.Source, &u.Expression, &verdict, &u.ThreatName, &u.Category,
			&firstSeen, &addedAt, &lastSeen, &importID); err != nil {
			return err
		}
		if len(hash) != len(u.Hash) {
			return fmt.Errorf("url indicator with a %d-byte hash", len(hash))
		}
		copy(u.Hash[:], hash)
		u.Verdict = reputation.Verdict(verdict)
		if firstSeen.Valid {
			u.FirstSeen = unixTime(firstSeen.Int64)
		} else {
			u.FirstSeen = unixTime(addedAt)
		}
		u.LastSeen = unixTime(lastSeen)
		found[u.Hash] = append(found[u.Hash], u)
	}
	return rows.Err()
}

// validURLIndicator checks what the database requires of a URL indicator.
func validURLIndicator(ind reputation.URLIndicator) error {
	if ind.Expression == "" || strings.ContainsAny(ind.Expression, "\x00\n") {
		return errors.New("url indicator without a usable expression")
	}
	switch ind.Verdict {
	case reputation.Unknown, reputation.Clean, reputation.Suspicious, reputation.Malicious:
	default:
		return fmt.Errorf("invalid verdict %q", ind.Verdict)
	}
	if ind.Hash == (URLHash{}) {
		return fmt.Errorf("url indicator %q without its hash", ind.Expression)
	}
	return nil
}

// AddURL buffers one link indicator, exactly as Add does a file indicator:
// the first statement of a hash in one import counts, and Commit makes
// them visible together with the import's file indicators.
func (im *sqliteImporter) AddURL(ind reputation.URLIndicator) error {
	if im.closed {
		return errors.New("import: AddURL after Commit or Rollback")
	}
	if im.err != nil {
		return im.err
	}
	if err := validURLIndicator(ind); err != nil {
		return fmt.Errorf("import from %s: %w", im.source, err)
	}
	if im.urlIndex == nil {
		im.urlIndex = make(map[URLHash]struct{}, importBatch)
	}
	if _, dup := im.urlIndex[ind.Hash]; dup {
		return nil
	}
	im.urlIndex[ind.Hash] = struct{}{}
	im.urls = append(im.urls, ind)
	if len(im.urls) >= importBatch {
		return im.flushURLs()
	}
	return nil
}

func (im *sqliteImporter) flushURLs() error {
	if im.err != nil {
		return im.err
	}
	if len(im.urls) == 0 {
		return nil
	}
	if err := im.writeURLs(); err != nil {
		im.err = fmt.Errorf("import from %s: %w", im.source, explainWrite(err))
		return im.err
	}
	im.urls = im.urls[:0]
	clear(im.urlIndex)
	return nil
}

type storedURL struct {
	verdict, threatName, category string
	firstSeen, importID           sql.NullInt64
}

func (im *sqliteImporter) writeURLs() error {
	// What the source said before about these hashes.
	q := `SELECT hash, verdict, threat_name, category, first_seen, import_id FROM url_indicators
WHERE source = ? AND hash IN (` + placeholders(len(im.urls)) + `)`
	args := make([]any, 0, 1+len(im.urls))
	args = append(args, im.source)
	for i := range im.urls {
		args = append(args, im.urls[i].Hash[:])
	}
	rows, err := im.tx.QueryContext(im.ctx, q, args...)
	if err != nil {
		return err
	}
	before := make(map[URLHash]storedURL)
	for rows.Next() {
		var h []byte
		var old storedURL
		if err := rows.Scan(&h, &old.verdict, &old.threatName, &old.category, &old.firstSeen, &old.importID); err != nil {
			rows.Close()
			return err
		}
		if len(h) == len(URLHash{}) {
			before[URLHash(h)] = old
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	const cols = 10
	vals := make([]any, 0, cols*len(im.urls))
	n := 0
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
		var firstSeen any
		if !ind.FirstSeen.IsZero() {
			firstSeen = ind.FirstSeen.Unix()
		}
		vals = append(vals, ind.Hash[:], im.source, ind.Expression, string(ind.Verdict), ind.ThreatName, ind.Category,
			firstSeen, im.now, im.now, im.importID)
		n++
	}
	if n == 0 {
		return nil
	}
	row := "(" + placeholders(cols) + ")"
	_, err = im.tx.ExecContext(im.ctx, `INSERT INTO url_indicators (`+urlColumns+`) VALUES `+
		strings.TrimSuffix(strings.Repeat(row+",", n), ",")+`
ON CONFLICT (hash, source) DO UPDATE SET
	expression  = excluded.expression,
	verdict     = excluded.verdict,
	threat_name = excluded.threat_name,
	category    = excluded.category,
	first_seen  = COALESCE(excluded.first_seen, url_indicators.first_seen),
	last_seen   = excluded.last_seen,
	import_id   = excluded.import_id`, vals...)
	return err
}
