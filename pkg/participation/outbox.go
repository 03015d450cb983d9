package participation

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Kind is what an outbox record describes.
type Kind string

// The kinds of records.
const (
	KindFile   Kind = "file"   // a checked file: FileObservation
	KindURL    Kind = "url"    // a checked link, sanitised
	KindSystem Kind = "system" // the machine: SystemInfo, at most once a day
	KindSpam   Kind = "spam"   // a checked message's spam statistics (mail.Spam)
)

func (k Kind) valid() bool { return k == KindFile || k == KindURL || k == KindSystem || k == KindSpam }

// Record is one entry of the outbox: exactly what would be sent, held on
// this machine until the user participates.
type Record struct {
	// ID is 32 lower-case hex chars, 128 random bits: the server ignores
	// an ID it has seen, so a retried batch never counts twice. It is not
	// derived from anything on this machine.
	ID   string
	Kind Kind
	// CreatedAt is when the record was made, UTC.
	CreatedAt time.Time
	// Body is exactly what would be sent: a compact JSON object.
	Body json.RawMessage

	// encoded is the body as this package's encoders (NewRecord,
	// NewFileRecord) made it, valid by construction: while Body is still
	// that very slice, Append skips scanning it again, which cost as much
	// as storing it.
	encoded []byte
	// compact is the body of a NewCompactFileRecord, in the outbox's
	// binary form (compact.go); Body is nil until the record is read back.
	compact []byte
}

// encodedHere reports whether Body is, unchanged, what an encoder of this
// package made.
func (r *Record) encodedHere() bool {
	return len(r.encoded) > 0 && len(r.Body) == len(r.encoded) && &r.Body[0] == &r.encoded[0]
}

// NewRecord makes a record of kind from body, marshalled to compact JSON,
// with a fresh random ID and CreatedAt now (in UTC; the current time when
// now is zero). body must marshal to a JSON object.
func NewRecord(kind Kind, body any, now time.Time) (Record, error) {
	if !kind.valid() {
		return Record{}, fmt.Errorf("new record: unknown kind %q", kind)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return Record{}, fmt.Errorf("new record: %w", err)
	}
	if !isObject(b) {
		return Record{}, errors.New("new record: the body is not a JSON object")
	}
	return newRecord(kind, b, now), nil
}

// newRecord wraps an encoded body with a fresh random id.
func newRecord(kind Kind, body []byte, now time.Time) Record {
	if now.IsZero() {
		now = time.Now()
	}
	var id [16]byte
	rand.Read(id[:]) // never fails (it crashes the program instead)
	return Record{ID: hex.EncodeToString(id[:]), Kind: kind, CreatedAt: now.UTC(), Body: body, encoded: body}
}

// isObject reports whether b, valid JSON or not, begins like an object:
// json.Marshal output has no leading white space.
func isObject(b []byte) bool { return len(b) >= 2 && b[0] == '{' }

func (r *Record) validate() error {
	// A compact body is valid by construction: only NewCompactFileRecord
	// makes one, after checking every part of it.
	if r.compact != nil && (r.Kind != KindFile || r.Body != nil) {
		return fmt.Errorf("record %s: a compact file record with kind %q or a body", r.ID, r.Kind)
	}
	if !isLowerHex(r.ID, 32) {
		return fmt.Errorf("record id %q: want 32 lower-case hex digits", r.ID)
	}
	if !r.Kind.valid() {
		return fmt.Errorf("record %s: unknown kind %q", r.ID, r.Kind)
	}
	if r.CreatedAt.IsZero() {
		return fmt.Errorf("record %s: no creation time", r.ID)
	}
	if r.CreatedAt.Before(minTime) || r.CreatedAt.After(maxTime) {
		return fmt.Errorf("record %s: creation time %v out of range", r.ID, r.CreatedAt)
	}
	// jsonValid is json.Valid, faster; json.Valid has the last word on a
	// body it refuses.
	if r.compact == nil && (!isObject(r.Body) || !(r.encodedHere() || jsonValid(r.Body) || json.Valid(r.Body))) {
		return fmt.Errorf("record %s: the body is not a JSON object", r.ID)
	}
	return nil
}

// Limits bound the outbox, which would otherwise grow for as long as the
// user does not participate.
type Limits struct {
	// MaxRecords is the most records kept; <= 0 means unbounded.
	MaxRecords int
	// MaxAge is the age beyond which a record is dropped instead of sent;
	// <= 0 means no limit.
	MaxAge time.Duration
}

// OutboxStats describes the outbox, for `ksn queue` and the opt-in prompt.
type OutboxStats struct {
	Records int
	// Bytes is the sum of the bodies' sizes as stored (a file record's in
	// its compact form, less than half of its JSON).
	Bytes int64
	// Oldest and Newest are the creation times of the oldest and newest
	// records; zero when the outbox is empty.
	Oldest time.Time
	Newest time.Time
	// DroppedFull counts records ever evicted because the outbox was full,
	// DroppedAge those ever dropped as too old; Clear keeps both, so the
	// user can always see what was lost without their action.
	DroppedFull int64
	DroppedAge  int64
}

// Meta keys (table meta).
const (
	metaDroppedFull    = "dropped_full"
	metaDroppedAge     = "dropped_age"
	metaLastSystemTime = "last_system_record_at"
)

// systemInterval is how often a system record is due.
const systemInterval = 24 * time.Hour

// Append adds recs to the outbox in one transaction, then applies lim: the
// records older than lim.MaxAge are dropped (counted in DroppedAge), and
// when the outbox holds more than lim.MaxRecords the oldest records go
// (counted in DroppedFull) — the newest are the ones worth sending. IDs
// are not checked for duplicates: they are 128 random bits, and the server
// ignores an ID it has seen. It returns how many records this call
// dropped, by either limit. Nothing is appended when a record is invalid.
func (s *Store) Append(ctx context.Context, recs []Record, lim Limits) (evicted int, err error) {
	if err := validateRecords(recs); err != nil {
		return 0, fmt.Errorf("append to outbox: %w", err)
	}
	if len(recs) == 0 {
		return 0, nil
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := insertRecords(ctx, tx, recs); err != nil {
			return err
		}
		evicted, err = s.applyLimits(ctx, tx, lim)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("append to outbox: %w", err)
	}
	return evicted, nil
}

// validateRecords returns the error of the first invalid record.
func validateRecords(recs []Record) error {
	for i := range recs {
		if err := recs[i].validate(); err != nil {
			return err
		}
	}
	return nil
}

// applyLimits drops what lim does not allow, counting it, and returns how
// many records it dropped.
func (s *Store) applyLimits(ctx context.Context, tx *sql.Tx, lim Limits) (int, error) {
	dropped := 0
	if lim.MaxAge > 0 {
		n, err := dropOlderThan(ctx, tx, s.now().Add(-lim.MaxAge))
		if err != nil {
			return 0, err
		}
		dropped += n
	}
	if lim.MaxRecords > 0 {
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(records), 0) FROM outbox_chunks`).Scan(&count); err != nil {
			return 0, err
		}
		if excess := count - lim.MaxRecords; excess > 0 {
			n, err := evictOldest(ctx, tx, excess)
			if err != nil {
				return 0, err
			}
			if err := addCount(ctx, tx, metaDroppedFull, n); err != nil {
				return 0, err
			}
			dropped += n
		}
	}
	return dropped, nil
}

// The times an outbox record can have: those whose Unix nanoseconds fit
// in an int64 (the years 1678 to 2262).
var (
	minTime = time.Unix(0, math.MinInt64).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

// unixNano is t.UnixNano, clamped to the times a record can have (Go
// leaves UnixNano undefined beyond them), for cutoffs that may be anything.
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// dropOlderThan deletes the records created before cutoff and counts them
// in dropped_age.
func dropOlderThan(ctx context.Context, tx *sql.Tx, cutoff time.Time) (int, error) {
	n, err := deleteOlder(ctx, tx, unixNano(cutoff))
	if err != nil {
		return 0, err
	}
	return n, addCount(ctx, tx, metaDroppedAge, n)
}

// addCount adds n to the counter key.
func addCount(ctx context.Context, tx *sql.Tx, key string, n int) error {
	if n == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE meta SET value = value + ? WHERE key = ?`, n, key)
	return err
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE, see dsn) and
// commits it when fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Stats describes the outbox, from one consistent snapshot.
func (s *Store) Stats(ctx context.Context) (OutboxStats, error) {
	var st OutboxStats
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return st, fmt.Errorf("outbox stats: %w", err)
	}
	defer tx.Rollback()
	var oldest, newest sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT coalesce(sum(records), 0), coalesce(sum(bytes), 0), min(created_min), max(created_max)
		FROM outbox_chunks`).Scan(&st.Records, &st.Bytes, &oldest, &newest)
	if err != nil {
		return OutboxStats{}, fmt.Errorf("outbox stats: %w", err)
	}
	if oldest.Valid {
		st.Oldest, st.Newest = fromUnixNano(oldest.Int64), fromUnixNano(newest.Int64)
	}
	err = tx.QueryRowContext(ctx, `SELECT
		(SELECT value FROM meta WHERE key = ?), (SELECT value FROM meta WHERE key = ?)`,
		metaDroppedFull, metaDroppedAge).Scan(&st.DroppedFull, &st.DroppedAge)
	if err != nil {
		return OutboxStats{}, fmt.Errorf("outbox stats: %w", err)
	}
	return st, nil
}

// Records calls fn with each record, oldest first, reading them one at a
// time (an outbox may be larger than is sensible to hold in memory). It
// stops at the first error fn returns and returns that error unchanged.
// fn sees one snapshot: records appended meanwhile are not visited.
func (s *Store) Records(ctx context.Context, fn func(Record) error) error {
	// The chunks are in order (see outbox_chunks.go); one is decoded at a
	// time.
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM outbox_chunks ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var data []byte // a copy, which the records' bodies share
		if err := rows.Scan(&data); err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		for len(data) > 0 {
			f, rest, err := parseRecord(data)
			if err != nil {
				return fmt.Errorf("read outbox: %w", err)
			}
			data = rest
			r, err := f.record()
			if err != nil {
				return fmt.Errorf("read outbox: %w", err)
			}
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	return nil
}

// Clear deletes every record (`ksn queue clear`, `ksn optout --purge`) and
// returns how many there were. The dropped counters are kept: they count
// what was lost without the user asking.
func (s *Store) Clear(ctx context.Context) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(records), 0) FROM outbox_chunks`).Scan(&n); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM outbox_chunks`)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("clear outbox: %w", err)
	}
	return n, nil
}

// DropOlderThan deletes the records created before cutoff, which are too
// old to be worth sending, counts them in DroppedAge, and returns how many
// there were.
func (s *Store) DropOlderThan(ctx context.Context, cutoff time.Time) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		n, err = dropOlderThan(ctx, tx, cutoff)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("drop old records: %w", err)
	}
	return n, nil
}

// Delete removes the records with the given IDs, once they were delivered.
// IDs not in the outbox are ignored: a record may have been delivered by
// another process, or dropped, meanwhile.
// It walks the outbox oldest first until it has found every ID, taking all
// the records of an ID in the chunks it reads (a duplicate ID, which
// Append does not refuse, may survive further on; sent again, the server
// ignores it).
func (s *Store) Delete(ctx context.Context, ids []string) error {
	for _, id := range ids {
		if !isLowerHex(id, 32) {
			return fmt.Errorf("delete from outbox: record id %q: want 32 lower-case hex digits", id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	want := make(map[[16]byte]bool, len(ids))
	for _, id := range ids {
		var b [16]byte
		hex.Decode(b[:], []byte(id)) // checked above
		want[b] = true
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error { return deleteIDs(ctx, tx, want) })
	if err != nil {
		return fmt.Errorf("delete from outbox: %w", err)
	}
	return nil
}

// SystemRecordDue reports whether a system record should be appended at
// now: true when none was appended in the 24 hours around now. (A last
// time far in the future, from a clock that was set back, counts as long
// ago, so a wrong clock cannot silence the record for ever.)
func (s *Store) SystemRecordDue(ctx context.Context, now time.Time) (bool, error) {
	last, err := lastSystemRecord(ctx, s.db)
	if err != nil {
		return false, fmt.Errorf("system record due: %w", err)
	}
	return systemDue(last, now), nil
}

// AppendSystemRecord appends r (of kind "system") when a system record is
// due at r.CreatedAt, applying lim as Append does, and remembers
// r.CreatedAt as the time of the last system record. The check and the
// append are one transaction, so of several processes trying at once
// exactly one appends. It reports whether r was appended.
func (s *Store) AppendSystemRecord(ctx context.Context, r Record, lim Limits) (bool, error) {
	if r.Kind != KindSystem {
		return false, fmt.Errorf("append system record: kind %q, want %q", r.Kind, KindSystem)
	}
	if err := r.validate(); err != nil {
		return false, fmt.Errorf("append system record: %w", err)
	}
	appended := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		last, err := lastSystemRecord(ctx, tx)
		if err != nil || !systemDue(last, r.CreatedAt) {
			return err
		}
		if err := insertRecords(ctx, tx, []Record{r}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = ?`,
			r.CreatedAt.UnixNano(), metaLastSystemTime); err != nil {
			return err
		}
		if _, err := s.applyLimits(ctx, tx, lim); err != nil {
			return err
		}
		appended = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("append system record: %w", err)
	}
	return appended, nil
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// lastSystemRecord returns when the last system record was appended; zero
// when never.
func lastSystemRecord(ctx context.Context, q queryRower) (time.Time, error) {
	var ns int64
	if err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, metaLastSystemTime).Scan(&ns); err != nil {
		return time.Time{}, err
	}
	if ns == 0 {
		return time.Time{}, nil
	}
	return fromUnixNano(ns), nil
}

func systemDue(last, now time.Time) bool {
	if last.IsZero() {
		return true
	}
	d := now.Sub(last)
	return d >= systemInterval || d <= -systemInterval
}
