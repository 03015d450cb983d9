package participation

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
)

// The outbox is stored many records per row of outbox_chunks (see
// migrations/00002_outbox_chunks.sql): one row per record cost about 3 µs a
// record to append, most of it SQLite's per-row work (B-tree inserts into
// the table, the id index and the created_at index), and a check of 20,000
// files appends 20,000 records at once.
//
// The chunks are kept in order: every record of a chunk comes, in the
// order (created_at, arrival), at or after every record of the chunks with
// a smaller seq, and a chunk's records are in that order. So Records reads
// the chunks by seq, eviction takes the first records, and an append whose
// records are all at least as new as the newest one stored (the common
// case: records are created as a check goes) only inserts new chunks. An
// append of an older record rewrites the chunks from the first whose
// newest record is newer than it.

const (
	// chunkRecords and chunkBytes bound a chunk: large enough that the
	// per-row cost is small per record, small enough that rewriting a
	// chunk (Delete after delivery, eviction, a small append topping up
	// the newest chunk) stays cheap.
	chunkRecords = 4096
	chunkBytes   = 1 << 20

	// smallChunk is the size under which the newest chunk is rewritten
	// with an append's records rather than followed by a new chunk, so
	// that many small appends do not leave many tiny chunks.
	smallChunk = chunkRecords / 4

	// recordHeader is the framed size of a record less its body: id (16),
	// kind (1), created_at (8, big-endian), body length (4, big-endian).
	recordHeader = 16 + 1 + 8 + 4
)

// errCorruptChunk is a chunk whose data does not parse.
var errCorruptChunk = errors.New("corrupt outbox chunk")

// The kinds' codes in the framing.
var (
	kindCodes = map[Kind]byte{KindFile: 1, KindURL: 2, KindSystem: 3, KindSpam: 5}
	kindNames = [...]Kind{1: KindFile, 2: KindURL, 3: KindSystem, codeCompactFile: KindFile, 5: KindSpam}
)

// codeCompactFile frames a file record whose body is in the compact form
// (compact.go) instead of JSON.
const codeCompactFile = 4

// framed is one record as stored: raw is its whole framing, body its body.
type framed struct {
	raw     []byte
	created int64
	body    int // the body's size
}

// parseRecord parses the record framed at the start of data and returns
// it and what follows it.
func parseRecord(data []byte) (framed, []byte, error) {
	if len(data) < recordHeader {
		return framed{}, nil, errCorruptChunk
	}
	n := binary.BigEndian.Uint32(data[25:29])
	if uint64(n) > uint64(len(data)-recordHeader) || data[16] == 0 || int(data[16]) >= len(kindNames) {
		return framed{}, nil, errCorruptChunk
	}
	end := recordHeader + int(n)
	return framed{raw: data[:end:end], created: int64(binary.BigEndian.Uint64(data[17:25])), body: int(n)}, data[end:], nil
}

// parseChunk returns the records framed in data, in order.
func parseChunk(data []byte) ([]framed, error) {
	var out []framed
	for len(data) > 0 {
		f, rest, err := parseRecord(data)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
		data = rest
	}
	return out, nil
}

// record decodes a framed record; a JSON body shares f.raw's memory, a
// compact one is rendered as JSON.
func (f framed) record() (Record, error) {
	r := Record{
		ID:        hex.EncodeToString(f.raw[:16]),
		Kind:      kindNames[f.raw[16]],
		CreatedAt: fromUnixNano(f.created),
		Body:      f.raw[recordHeader:len(f.raw):len(f.raw)],
	}
	if f.raw[16] == codeCompactFile {
		body, err := renderCompact(r.Body)
		if err != nil {
			return Record{}, fmt.Errorf("record %s: %w", r.ID, err)
		}
		r.Body = body
	}
	return r, nil
}

// appendFramed appends the framing of the record r to b. r should be
// valid; an invalid one is framed as something, without panicking.
func appendFramed(b []byte, r *Record) []byte {
	n := len(b)
	b = slices.Grow(b, recordHeader+len(r.Body)+len(r.compact))[:n+16]
	if len(r.ID) == 32 { // else invalid, and never committed (see Append)
		hex.Decode(b[n:], []byte(r.ID))
	}
	body, code := r.Body, kindCodes[r.Kind]
	if r.compact != nil {
		body, code = r.compact, codeCompactFile
	}
	b = append(b, code)
	b = binary.BigEndian.AppendUint64(b, uint64(r.CreatedAt.UnixNano()))
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}

// chunk is a chunk being built or rewritten.
type chunk struct {
	data     []byte
	records  int
	bytes    int64
	min, max int64
}

func (c *chunk) full() bool { return c.records >= chunkRecords || len(c.data) >= chunkBytes }

// note accounts for a record just framed at the end of c.data.
func (c *chunk) note(created int64, body int) {
	if c.records == 0 || created < c.min {
		c.min = created
	}
	if c.records == 0 || created > c.max {
		c.max = created
	}
	c.records++
	c.bytes += int64(body)
}

func (c *chunk) addFramed(f framed) {
	c.data = append(c.data, f.raw...)
	c.note(f.created, f.body)
}

func (c *chunk) addRecord(r *Record) {
	c.data = appendFramed(c.data, r)
	c.note(r.CreatedAt.UnixNano(), len(r.Body)+len(r.compact))
}

// chunkFrom returns the chunk of the given records.
func chunkFrom(recs []framed) chunk {
	var c chunk
	size := 0
	for _, f := range recs {
		size += len(f.raw)
	}
	c.data = make([]byte, 0, size)
	for _, f := range recs {
		c.addFramed(f)
	}
	return c
}

// chunkWriter inserts chunks as they fill, in order.
type chunkWriter struct {
	ctx context.Context
	tx  *sql.Tx
	st  *sql.Stmt
	cur chunk
	buf []byte // the data buffer, reused: the driver copies bound values
}

func (w *chunkWriter) flushIfFull() error {
	if w.cur.full() {
		return w.flush()
	}
	return nil
}

func (w *chunkWriter) flush() error {
	if w.cur.records == 0 {
		return nil
	}
	if w.st == nil {
		st, err := w.tx.PrepareContext(w.ctx, `INSERT INTO outbox_chunks
			(created_min, created_max, records, bytes, data) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		w.st = st
	}
	c := w.cur
	if _, err := w.st.ExecContext(w.ctx, c.min, c.max, c.records, c.bytes, c.data); err != nil {
		return err
	}
	w.cur = chunk{data: c.data[:0]}
	return nil
}

func (w *chunkWriter) close() {
	if w.st != nil {
		w.st.Close()
	}
}

// insertRecords adds records to the outbox (valid ones: Append may call it
// while still validating them, and rolls back when one is not), keeping the chunks in
// order (see the top of this file): the records are taken in the order of
// their creation times, arrival order among equal ones, after the stored
// records of the same time.
func insertRecords(ctx context.Context, tx *sql.Tx, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	order := sortedOrder(recs)
	at := func(i int) *Record {
		if order == nil {
			return &recs[i]
		}
		return &recs[order[i]]
	}
	oldest := at(0).CreatedAt.UnixNano()

	// The stored chunks to rewrite with recs: those with a record newer
	// than the oldest of recs, and the newest chunk when it is small.
	var from sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT min(seq) FROM outbox_chunks WHERE created_max > ?`, oldest).Scan(&from)
	if err != nil {
		return err
	}
	var lastSeq, lastRecords sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT seq, records FROM outbox_chunks ORDER BY seq DESC LIMIT 1`).Scan(&lastSeq, &lastRecords)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if !from.Valid && lastSeq.Valid && lastRecords.Int64 < smallChunk {
		from = lastSeq
	}
	var old []framed
	if from.Valid {
		rows, err := tx.QueryContext(ctx, `SELECT data FROM outbox_chunks WHERE seq >= ? ORDER BY seq`, from.Int64)
		if err != nil {
			return err
		}
		for rows.Next() {
			var data []byte
			if err := rows.Scan(&data); err != nil {
				rows.Close()
				return err
			}
			fs, err := parseChunk(data)
			if err != nil {
				rows.Close()
				return err
			}
			old = append(old, fs...)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_chunks WHERE seq >= ?`, from.Int64); err != nil {
			return err
		}
	}

	// Merge old and recs, both in order, old first among equal times. The
	// new chunks get seqs above every remaining one (rowid: max + 1).
	size := min(len(recs)+len(old), chunkRecords) * (recordHeader + 256)
	w := &chunkWriter{ctx: ctx, tx: tx, cur: chunk{data: make([]byte, 0, min(size, chunkBytes+64<<10))}}
	defer w.close()
	i := 0
	for _, f := range old {
		for i < len(recs) && at(i).CreatedAt.UnixNano() < f.created {
			w.cur.addRecord(at(i))
			i++
			if err := w.flushIfFull(); err != nil {
				return err
			}
		}
		w.cur.addFramed(f)
		if err := w.flushIfFull(); err != nil {
			return err
		}
	}
	for ; i < len(recs); i++ {
		w.cur.addRecord(at(i))
		if err := w.flushIfFull(); err != nil {
			return err
		}
	}
	return w.flush()
}

// sortedOrder returns nil when recs are in the order of their creation
// times, else the indices of recs in that order (stable: arrival order
// among equal times).
func sortedOrder(recs []Record) []int {
	sorted := true
	for i := 1; i < len(recs); i++ {
		if recs[i].CreatedAt.Before(recs[i-1].CreatedAt) {
			sorted = false
			break
		}
	}
	if sorted {
		return nil
	}
	order := make([]int, len(recs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return recs[a].CreatedAt.Compare(recs[b].CreatedAt)
	})
	return order
}

// storedChunk is a chunk's seq and record count.
type storedChunk struct {
	seq     int64
	records int
}

// chunkList returns the seq and record count of the chunks the query
// selects (it must select those two columns).
func chunkList(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]storedChunk, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedChunk
	for rows.Next() {
		var c storedChunk
		if err := rows.Scan(&c.seq, &c.records); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// readChunk returns the records of chunk seq.
func readChunk(ctx context.Context, tx *sql.Tx, seq int64) ([]framed, error) {
	var data []byte
	if err := tx.QueryRowContext(ctx, `SELECT data FROM outbox_chunks WHERE seq = ?`, seq).Scan(&data); err != nil {
		return nil, err
	}
	fs, err := parseChunk(data)
	if err != nil {
		return nil, fmt.Errorf("chunk %d: %w", seq, err)
	}
	return fs, nil
}

// rewriteChunk replaces chunk seq by the given records, which keep its
// place in the order, or deletes it when there are none.
func rewriteChunk(ctx context.Context, tx *sql.Tx, seq int64, recs []framed) error {
	if len(recs) == 0 {
		_, err := tx.ExecContext(ctx, `DELETE FROM outbox_chunks WHERE seq = ?`, seq)
		return err
	}
	c := chunkFrom(recs)
	_, err := tx.ExecContext(ctx, `UPDATE outbox_chunks
		SET created_min = ?, created_max = ?, records = ?, bytes = ?, data = ? WHERE seq = ?`,
		c.min, c.max, c.records, c.bytes, c.data, seq)
	return err
}

// evictOldest deletes the n oldest records and returns how many it
// deleted.
func evictOldest(ctx context.Context, tx *sql.Tx, n int) (int, error) {
	chunks, err := chunkList(ctx, tx, `SELECT seq, records FROM outbox_chunks ORDER BY seq`)
	if err != nil {
		return 0, err
	}
	deleted := 0
	var whole int64 = -1 // the last chunk deleted whole
	for _, c := range chunks {
		if deleted+c.records > n {
			break
		}
		deleted += c.records
		whole = c.seq
	}
	if whole >= 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_chunks WHERE seq <= ?`, whole); err != nil {
			return 0, err
		}
	}
	if k := n - deleted; k > 0 {
		for _, c := range chunks {
			if c.seq <= whole {
				continue
			}
			recs, err := readChunk(ctx, tx, c.seq)
			if err != nil {
				return 0, err
			}
			k = min(k, len(recs))
			if err := rewriteChunk(ctx, tx, c.seq, recs[k:]); err != nil {
				return 0, err
			}
			deleted += k
			break
		}
	}
	return deleted, nil
}

// deleteOlder deletes the records created before the Unix nanoseconds
// cutoff and returns how many it deleted.
func deleteOlder(ctx context.Context, tx *sql.Tx, cutoff int64) (int, error) {
	var whole int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(records), 0) FROM outbox_chunks WHERE created_max < ?`,
		cutoff).Scan(&whole); err != nil {
		return 0, err
	}
	if whole > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_chunks WHERE created_max < ?`, cutoff); err != nil {
			return 0, err
		}
	}
	straddling, err := chunkList(ctx, tx, `SELECT seq, records FROM outbox_chunks WHERE created_min < ? ORDER BY seq`, cutoff)
	if err != nil {
		return 0, err
	}
	deleted := whole
	for _, c := range straddling {
		recs, err := readChunk(ctx, tx, c.seq)
		if err != nil {
			return 0, err
		}
		keep := slices.DeleteFunc(recs, func(f framed) bool { return f.created < cutoff })
		deleted += c.records - len(keep)
		if err := rewriteChunk(ctx, tx, c.seq, keep); err != nil {
			return 0, err
		}
	}
	return deleted, nil
}

// deleteIDs deletes the records with the given ids, walking the chunks
// oldest first (delivery deletes the oldest records) until it found them
// all. ids maps each id to delete to whether it is still to be found.
func deleteIDs(ctx context.Context, tx *sql.Tx, ids map[[16]byte]bool) error {
	chunks, err := chunkList(ctx, tx, `SELECT seq, records FROM outbox_chunks ORDER BY seq`)
	if err != nil {
		return err
	}
	left := len(ids)
	for _, c := range chunks {
		if left == 0 {
			break
		}
		recs, err := readChunk(ctx, tx, c.seq)
		if err != nil {
			return err
		}
		keep := slices.DeleteFunc(recs, func(f framed) bool {
			id := [16]byte(f.raw[:16])
			missing, ok := ids[id]
			if ok && missing {
				ids[id] = false
				left--
			}
			// A duplicate of a found id in the same chunk goes too.
			return ok
		})
		if len(keep) != len(recs) {
			if err := rewriteChunk(ctx, tx, c.seq, keep); err != nil {
				return err
			}
		}
	}
	return nil
}
