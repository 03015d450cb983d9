package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/halfyear"
	"github.com/ksnproject/ksn/pkg/seal"
)

// ErrNoKEK reports an operation on sealed submissions before
// UnlockSubmissions or UseKEK gave the database its key-encryption key.
var ErrNoKEK = errors.New("no key-encryption key: submissions cannot be sealed or read")

// ErrWrongKEK reports a key-encryption key other than the one this
// database's data keys are wrapped by. A *KEKMismatchError wraps it.
var ErrWrongKEK = errors.New("the key-encryption key is not the one this database's submissions are sealed with")

// KEKMismatchError says which key the database expects and which it was
// given, by fingerprint (the start of seal.CheckValue).
type KEKMismatchError struct {
	Want, Got string
}

func (e *KEKMismatchError) Error() string {
	return fmt.Sprintf("%v (the database expects key %s, this one is %s)", ErrWrongKEK, e.Want, e.Got)
}

func (e *KEKMismatchError) Is(target error) bool { return target == ErrWrongKEK }

// ErrPurged reports a record received in a half-year whose key was already
// destroyed: the server's clock is behind the purge that ran.
var ErrPurged = errors.New("half-year already purged")

// ErrKeyMissing reports sealed records whose half-year's data key is gone
// although no purge destroyed it: the database was damaged or edited.
var ErrKeyMissing = errors.New("the data key is missing (the database was damaged or edited; restore it, or purge that half-year)")

// settingKEKCheck is the server_settings row holding seal.CheckValue of
// the database's KEK.
const settingKEKCheck = "kek_check"

// Purposes of the keys derived from a data key.
const dedupPurpose = "ksn-participant-dedup-v1"

// sealing is a database's key-encryption key and the data key of the
// half-year last written.
type sealing struct {
	mu  sync.Mutex
	kek *seal.Key
	cur *dataKey // nil: none yet
}

// dataKey is an unwrapped data key, with the wrapped bytes it came from:
// it is used only while the database still holds exactly those.
type dataKey struct {
	label   string
	wrapped []byte
	sealer  *seal.Sealer
	dedup   seal.Key
}

func newDataKey(label string, wrapped []byte, k seal.Key) *dataKey {
	return &dataKey{label: label, wrapped: wrapped, sealer: seal.NewSealer(k), dedup: seal.Derive(k, dedupPurpose)}
}

// UnlockSubmissions gives the database the KEK that seals submissions. The
// first KEK given to a database is bound to it (its check value is
// stored); from then on any other KEK is refused with a *KEKMismatchError,
// so that a server started with the wrong file cannot write records that
// the right one could not read.
func (s *SQLite) UnlockSubmissions(ctx context.Context, kek seal.Key) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO server_settings (name, value) VALUES (?, ?)
ON CONFLICT (name) DO NOTHING`, settingKEKCheck, seal.CheckValue(kek)); err != nil {
		return fmt.Errorf("bind key-encryption key: %w", explainWrite(err))
	}
	return s.UseKEK(ctx, kek)
}

// UseKEK is UnlockSubmissions without binding: for reading what is sealed.
// A database that never had a KEK accepts any (it holds nothing sealed).
func (s *SQLite) UseKEK(ctx context.Context, kek seal.Key) error {
	stored, ok, err := s.setting(ctx, settingKEKCheck)
	if err != nil {
		return fmt.Errorf("read key-encryption key check: %w", err)
	}
	if got := seal.CheckValue(kek); ok && !hmac.Equal([]byte(stored), []byte(got)) {
		return &KEKMismatchError{Want: seal.Fingerprint(stored), Got: seal.Fingerprint(got)}
	}
	s.sealing.mu.Lock()
	s.sealing.kek = &kek
	s.sealing.cur = nil
	s.sealing.mu.Unlock()
	return nil
}

// KEKBound reports whether a KEK was ever bound to the database, and its
// fingerprint.
func (s *SQLite) KEKBound(ctx context.Context) (fingerprint string, ok bool, err error) {
	v, ok, err := s.setting(ctx, settingKEKCheck)
	if err != nil || !ok {
		return "", false, err
	}
	return seal.Fingerprint(v), true, nil
}

// Submission is one record to store, with the facts its aggregates are
// computed from. The caller (pkg/server) parsed and checked the body
// strictly; exactly one of File, URL and System is set, as Record.Kind says.
type Submission struct {
	Record api.Record
	File   *FileFacts
	URL    *URLFacts
	System *SystemFacts
}

// FileFacts are what the aggregates keep of a file record.
type FileFacts struct {
	SHA256 [32]byte
	Size   int64
	HashMS float64
}

// URLFacts are what the aggregates keep of a link record.
type URLFacts struct {
	// Key is the SHA-256 of the redacted URL's host and path ("host/path").
	Key     [32]byte
	CheckMS float64
}

// SystemFacts are a system record's fields, as sent; the aggregates keep
// them in classes (see SystemCount).
type SystemFacts struct {
	OS, OSVersion, Arch, KSNVersion string
	CPUs, MemoryGiB                 int
}

// Kinds of object in object_stats.
const (
	ObjectFile = "file"
	ObjectURL  = "url"
)

// ParseParticipant checks a participant code: 32 lower-case hex characters.
func ParseParticipant(p string) ([]byte, error) {
	b, err := hex.DecodeString(p)
	if err != nil || len(b) != 16 || strings.ToLower(p) != p {
		return nil, errors.New("participant is not 32 lower-case hex characters")
	}
	return b, nil
}

// StoreSubmissions seals and stores a batch that participant (its code for
// the half-year) sent, received at at, in one transaction, and updates the
// aggregates of the new records. accepted are new records, duplicates ids
// already stored (or repeated within the batch), which change nothing, so
// that a client may resend a batch after any failure. A malformed id or
// participant fails the whole batch before anything is stored.
func (s *SQLite) StoreSubmissions(ctx context.Context, participant string, subs []Submission, at time.Time) (accepted, duplicates int, err error) {
	fail := func(err error) (int, int, error) { return 0, 0, fmt.Errorf("store submissions: %w", err) }
	part, err := ParseParticipant(participant)
	if err != nil {
		return fail(err)
	}
	ids := make([][]byte, len(subs))
	for i, sub := range subs {
		if ids[i], err = ParseRecordID(sub.Record.ID); err != nil {
			return fail(err)
		}
	}
	if len(subs) == 0 {
		return 0, 0, nil
	}
	at = at.UTC()
	label := halfyear.Of(at).String()
	nonces := make([]byte, seal.NonceSize*len(subs))
	if _, err := rand.Read(nonces); err != nil {
		return fail(err)
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fail(explainWrite(err))
	}
	defer tx.Rollback()
	dk, err := s.dataKeyFor(ctx, tx, label, at)
	if err != nil {
		return fail(err)
	}

	// Seal every record, then insert them many rows to a statement (a
	// statement costs more than a row), learning from RETURNING which ids
	// were new.
	rows := make([]any, 0, 3*len(subs))
	var aad, pt []byte
	for i, sub := range subs {
		pt = appendPlaintext(pt[:0], sub.Record)
		aad = append(append(aad[:0], ids[i]...), label...)
		sealed := dk.sealer.SealWithNonce(make([]byte, 0, len(pt)+seal.Overhead), [seal.NonceSize]byte(nonces[i*seal.NonceSize:]), aad, pt)
		rows = append(rows, ids[i], label, sealed)
	}
	inserted := make(map[string]bool, len(subs))
	err = insertRows(ctx, tx, `INSERT INTO sealed_submissions (id, half_year, sealed) VALUES `, 3, rows,
		` ON CONFLICT (id) DO NOTHING RETURNING id`, func(r *sql.Rows) error {
			var id []byte
			err := r.Scan(&id)
			inserted[string(id)] = true
			return err
		})
	if err != nil {
		return fail(explainWrite(err))
	}
	agg := newBatchAggregates(at)
	for i, sub := range subs {
		if !inserted[string(ids[i])] {
			duplicates++
			continue
		}
		delete(inserted, string(ids[i])) // a second copy in the batch is a duplicate
		accepted++
		agg.add(sub)
	}
	if err := agg.writeParticipants(ctx, tx, label, dk.dedup, part); err != nil {
		return fail(err)
	}
	if err := agg.write(ctx, tx); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(explainWrite(err))
	}
	return accepted, duplicates, nil
}

// rowsPerStatement bounds the rows of one multi-row INSERT (SQLite allows
// 32,766 parameters to a statement).
const rowsPerStatement = 250

// insertRows runs head + "(?, ...), (?, ...)" + tail for the rows in args
// (cols values each), rowsPerStatement rows at a time; with a RETURNING
// tail, fn sees every row returned.
func insertRows(ctx context.Context, tx *sql.Tx, head string, cols int, args []any, tail string, fn func(*sql.Rows) error) error {
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	for len(args) > 0 {
		n := min(len(args)/cols, rowsPerStatement)
		chunk := args[:n*cols]
		args = args[n*cols:]
		q := head + strings.TrimSuffix(strings.Repeat(tuple+", ", n), ", ") + tail
		if fn == nil {
			if _, err := tx.ExecContext(ctx, q, chunk...); err != nil {
				return err
			}
			continue
		}
		if err := eachRow(ctx, tx, q, chunk, fn); err != nil {
			return err
		}
	}
	return nil
}

// appendPlaintext appends what is sealed of a record: the record as JSON,
// as encoding/json would write api.Record (the body as received).
func appendPlaintext(b []byte, r api.Record) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendQuote(b, r.ID)
	b = append(b, `,"kind":`...)
	b = strconv.AppendQuote(b, r.Kind)
	b = append(b, `,"created_at":"`...)
	b = r.CreatedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","body":`...)
	b = append(b, r.Body...)
	return append(b, '}')
}

// dataKeyFor returns the data key of the half-year label, creating it when
// the half-year has none yet, inside the batch's write transaction (so
// that two servers on one database agree on one key).
func (s *SQLite) dataKeyFor(ctx context.Context, tx *sql.Tx, label string, at time.Time) (*dataKey, error) {
	s.sealing.mu.Lock()
	kek, cur := s.sealing.kek, s.sealing.cur
	s.sealing.mu.Unlock()
	if kek == nil {
		return nil, ErrNoKEK
	}
	var wrapped []byte
	err := tx.QueryRowContext(ctx, `SELECT wrapped FROM submission_keys WHERE half_year = ?`, label).Scan(&wrapped)
	switch {
	case err == nil:
		if cur != nil && cur.label == label && hmac.Equal(cur.wrapped, wrapped) {
			return cur, nil
		}
	case errors.Is(err, sql.ErrNoRows):
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM purged_half_years WHERE half_year = ?`, label).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, fmt.Errorf("a record received at %s belongs to %s: %w (is the server's clock right?)", at.Format(time.RFC3339), label, ErrPurged)
		}
		// Records of the half-year without its key: the key row was lost
		// (a restored table, a hand edit). A new key would seal the next
		// records while the earlier ones stay unreadable, in silence.
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sealed_submissions WHERE half_year = ?`, label).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, fmt.Errorf("%d sealed records of %s have no data key: %w", n, label, ErrKeyMissing)
		}
		k, err := seal.NewKey()
		if err != nil {
			return nil, err
		}
		if wrapped, err = seal.Wrap(*kek, label, k); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO submission_keys (half_year, wrapped, created_at) VALUES (?, ?, ?)`,
			label, wrapped, at.Unix()); err != nil {
			return nil, explainWrite(err)
		}
	default:
		return nil, err
	}
	k, err := seal.Unwrap(*kek, label, wrapped)
	if err != nil {
		return nil, err
	}
	dk := newDataKey(label, wrapped, k)
	s.sealing.mu.Lock()
	s.sealing.cur = dk
	s.sealing.mu.Unlock()
	return dk, nil
}

// batchAggregates collects one batch's changes to the aggregates, written
// with one statement per row touched rather than per record.
type batchAggregates struct {
	day     string // YYYY-MM-DD of the receipt
	dayUnix int64
	kinds   map[string]int64
	objects map[objectRef]*objectDelta
	order   []objectRef // objects in first-seen order, for the participant rows
	scan    map[string]*scanDelta
	systems map[systemKey]int64
}

type objectRef struct {
	kind string
	key  [32]byte
}

type objectDelta struct {
	reports, participants int64
}

type scanDelta struct {
	records int64
	totalMS float64
	buckets map[int]int64
}

type systemKey struct {
	os, arch, osVersion, ksnVersion, cpus, memory string
}

func newBatchAggregates(at time.Time) *batchAggregates {
	day := at.UTC().Truncate(24 * time.Hour)
	return &batchAggregates{
		day:     day.Format(time.DateOnly),
		dayUnix: day.Unix(),
		kinds:   map[string]int64{},
		objects: map[objectRef]*objectDelta{},
		scan:    map[string]*scanDelta{},
		systems: map[systemKey]int64{},
	}
}

func (a *batchAggregates) add(sub Submission) {
	a.kinds[sub.Record.Kind]++
	switch {
	case sub.File != nil:
		a.object(ObjectFile, sub.File.SHA256)
		a.scanTime(SizeClass(sub.File.Size), sub.File.HashMS)
	case sub.URL != nil:
		a.object(ObjectURL, sub.URL.Key)
		a.scanTime(URLClass, sub.URL.CheckMS)
	case sub.System != nil:
		f := sub.System
		a.systems[systemKey{f.OS, f.Arch, OSVersionClass(f.OSVersion), f.KSNVersion, CPUClass(f.CPUs), MemoryClass(f.MemoryGiB)}]++
	}
}

func (a *batchAggregates) object(kind string, key [32]byte) {
	ref := objectRef{kind, key}
	d, ok := a.objects[ref]
	if !ok {
		d = &objectDelta{}
		a.objects[ref] = d
		a.order = append(a.order, ref)
	}
	d.reports++
}

func (a *batchAggregates) scanTime(class string, ms float64) {
	d, ok := a.scan[class]
	if !ok {
		d = &scanDelta{buckets: map[int]int64{}}
		a.scan[class] = d
	}
	d.records++
	d.totalMS += ms
	d.buckets[ScanBucket(ms)]++
}

// writeParticipants records, for every object of the batch, that the
// participant reported it in the half-year, and counts the participant
// for the objects it had not reported in the half-year before.
func (a *batchAggregates) writeParticipants(ctx context.Context, tx *sql.Tx, label string, dedup seal.Key, participant []byte) error {
	if len(a.order) == 0 {
		return nil
	}
	m := hmac.New(sha256.New, dedup[:])
	bySeen := make(map[string]objectRef, len(a.order))
	args := make([]any, 0, 2*len(a.order))
	for _, ref := range a.order {
		m.Reset()
		m.Write(participant)
		m.Write([]byte(ref.kind))
		m.Write([]byte{0})
		m.Write(ref.key[:])
		seen := m.Sum(nil)[:16]
		bySeen[string(seen)] = ref
		args = append(args, label, seen)
	}
	return insertRows(ctx, tx, `INSERT INTO submission_participants (half_year, seen) VALUES `, 2, args,
		` ON CONFLICT DO NOTHING RETURNING seen`, func(r *sql.Rows) error {
			var seen []byte
			if err := r.Scan(&seen); err != nil {
				return err
			}
			if ref, ok := bySeen[string(seen)]; ok {
				a.objects[ref].participants++
			}
			return nil
		})
}

// write applies the batch's changes to the aggregate tables.
func (a *batchAggregates) write(ctx context.Context, tx *sql.Tx) error {
	for kind, n := range a.kinds {
		if _, err := tx.ExecContext(ctx, `INSERT INTO daily_counts (day, kind, records) VALUES (?, ?, ?)
ON CONFLICT (day, kind) DO UPDATE SET records = records + excluded.records`, a.day, kind, n); err != nil {
			return explainWrite(err)
		}
	}
	if len(a.order) > 0 {
		args := make([]any, 0, 6*len(a.order))
		for _, ref := range a.order {
			d := a.objects[ref]
			args = append(args, ref.kind, ref.key[:], d.participants, d.reports, a.dayUnix, a.dayUnix)
		}
		if err := insertRows(ctx, tx, `INSERT INTO object_stats (kind, object, participants, reports, first_day, last_day) VALUES `, 6, args, `
ON CONFLICT (kind, object) DO UPDATE SET
    participants = participants + excluded.participants,
    reports = reports + excluded.reports,
    first_day = min(first_day, excluded.first_day),
    last_day = max(last_day, excluded.last_day)`, nil); err != nil {
			return explainWrite(err)
		}
	}
	for class, d := range a.scan {
		if _, err := tx.ExecContext(ctx, `INSERT INTO scan_time_classes (size_class, records, total_ms) VALUES (?, ?, ?)
ON CONFLICT (size_class) DO UPDATE SET records = records + excluded.records, total_ms = total_ms + excluded.total_ms`,
			class, d.records, d.totalMS); err != nil {
			return explainWrite(err)
		}
		for b, n := range d.buckets {
			if _, err := tx.ExecContext(ctx, `INSERT INTO scan_time_buckets (size_class, bucket, records) VALUES (?, ?, ?)
ON CONFLICT (size_class, bucket) DO UPDATE SET records = records + excluded.records`, class, b, n); err != nil {
				return explainWrite(err)
			}
		}
	}
	for k, n := range a.systems {
		if _, err := tx.ExecContext(ctx, `INSERT INTO system_counts (os, arch, os_version, ksn_version, cpus, memory, records)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (os, arch, os_version, ksn_version, cpus, memory) DO UPDATE SET records = records + excluded.records`,
			k.os, k.arch, k.osVersion, k.ksnVersion, k.cpus, k.memory, n); err != nil {
			return explainWrite(err)
		}
	}
	return nil
}

// URLClass is the scan-time class of link records.
const URLClass = "url"

// SizeClasses are the scan-time classes of file records, smallest first.
var SizeClasses = []string{"<64KiB", "<1MiB", "<16MiB", "<256MiB", ">=256MiB"}

// SizeClass returns the scan-time class of a file of size bytes.
func SizeClass(size int64) string {
	switch {
	case size < 64<<10:
		return SizeClasses[0]
	case size < 1<<20:
		return SizeClasses[1]
	case size < 16<<20:
		return SizeClasses[2]
	case size < 256<<20:
		return SizeClasses[3]
	}
	return SizeClasses[4]
}

// The scan-time histogram: bucket 0 holds times under bucketBaseMS;
// bucket b > 0 starts at bucketBaseMS × 2^((b-1)/bucketsPerOctave). The
// last bucket also holds everything beyond it (over 12 days).
const (
	bucketBaseMS     = 0.001
	bucketsPerOctave = 4
	maxBucket        = 1 + 40*bucketsPerOctave
)

// ScanBucket returns the histogram bucket of a time in milliseconds.
func ScanBucket(ms float64) int {
	if !(ms >= bucketBaseMS) { // also NaN
		return 0
	}
	if ms > bucketStart(maxBucket) { // also +Inf
		return maxBucket
	}
	b := 1 + int(math.Floor(math.Log2(ms/bucketBaseMS)*bucketsPerOctave))
	return min(max(b, 1), maxBucket)
}

// bucketStart is the least time of bucket b > 0.
func bucketStart(b int) float64 {
	return bucketBaseMS * math.Exp2(float64(b-1)/bucketsPerOctave)
}

// bucketValue is the value a percentile falling in bucket b is reported
// as: the geometric middle of the bucket, so within about 9% of any time
// in it; 0 for bucket 0.
func bucketValue(b int) float64 {
	if b == 0 {
		return 0
	}
	return bucketStart(b) * math.Exp2(0.5/bucketsPerOctave)
}

// OSVersionClass cuts an OS version to its first two numbers ("6.8.0-45-
// generic" → "6.8", "23.4.0" → "23.4", "10" → "10"); "" is "unknown", and
// a version that does not start with a number is "other".
func OSVersionClass(v string) string {
	if v == "" {
		return "unknown"
	}
	digits := func(i int) int {
		j := i
		for j < len(v) && j-i < 6 && v[j] >= '0' && v[j] <= '9' {
			j++
		}
		return j
	}
	i := digits(0)
	if i == 0 {
		return "other"
	}
	if i < len(v) && v[i] == '.' {
		if j := digits(i + 1); j > i+1 {
			return v[:j]
		}
	}
	return v[:i]
}

// CPUClass puts a CPU count in a class: "1", "2", "3-4", "5-8", ... up to
// "65+"; 0 (unknown) is "unknown".
func CPUClass(n int) string {
	if n <= 0 {
		return "unknown"
	}
	return powerClass(n, 64)
}

// MemoryClass puts memory in GiB in a class like CPUClass's, up to "257+".
func MemoryClass(gib int) string {
	if gib <= 0 {
		return "unknown"
	}
	return powerClass(gib, 256)
}

// powerClass is the class (2^(k-1), 2^k] of n ≥ 1, written "lo-hi", with
// "1" and "2" on their own and everything above top as "top+1+".
func powerClass(n, top int) string {
	if n > top {
		return fmt.Sprintf("%d+", top+1)
	}
	if n <= 2 {
		return fmt.Sprint(n)
	}
	hi := 4
	for hi < n {
		hi *= 2
	}
	return fmt.Sprintf("%d-%d", hi/2+1, hi)
}

// PurgedHalfYear says what a purge destroyed of one half-year.
type PurgedHalfYear struct {
	HalfYear        string
	PurgedAt        time.Time
	Records         int64 // sealed records deleted
	ParticipantRows int64 // (participant, object) rows deleted
}

// PurgeResult is what one Purge did.
type PurgeResult struct {
	Purged []PurgedHalfYear
	// Checkpointed is false when a reader kept the WAL checkpoint from
	// completing: the destroyed pages may then linger in the -wal file
	// until the next checkpoint.
	Checkpointed bool
}

// Purge destroys every half-year that ended at least grace before now: its
// wrapped data key, its sealed records and its participant rows, with
// SQLite's secure_delete on (freed content is overwritten with zeros), and
// then checkpoints and truncates the WAL so that no copy of a destroyed
// page remains in it. Aggregates are not touched. It needs no KEK.
func (s *SQLite) Purge(ctx context.Context, now time.Time, grace time.Duration) (PurgeResult, error) {
	var res PurgeResult
	labels, err := s.heldHalfYears(ctx)
	if err != nil {
		return res, fmt.Errorf("purge: %w", err)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("purge: %w", err)
	}
	defer conn.Close()
	var was int
	if err := conn.QueryRowContext(ctx, `PRAGMA secure_delete`).Scan(&was); err != nil {
		return res, fmt.Errorf("purge: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return res, fmt.Errorf("purge: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA secure_delete = %d`, was))
	for _, l := range labels {
		if now.Before(l.End().Add(grace)) {
			continue
		}
		p, err := s.purgeHalfYear(ctx, conn, l.String(), now)
		if err != nil {
			return res, fmt.Errorf("purge %s: %w", l, err)
		}
		res.Purged = append(res.Purged, p)
	}
	res.Checkpointed = true
	if len(res.Purged) > 0 {
		if res.Checkpointed, err = checkpointTruncate(ctx, conn); err != nil {
			return res, fmt.Errorf("purge: checkpoint: %w", err)
		}
	}
	return res, nil
}

// heldHalfYears lists the half-years the database holds a key or rows of,
// oldest first.
func (s *SQLite) heldHalfYears(ctx context.Context) ([]halfyear.Label, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT half_year FROM submission_keys
UNION SELECT DISTINCT half_year FROM sealed_submissions
UNION SELECT DISTINCT half_year FROM submission_participants
ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []halfyear.Label
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		l, err := halfyear.Parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func (s *SQLite) purgeHalfYear(ctx context.Context, conn *sql.Conn, label string, now time.Time) (PurgedHalfYear, error) {
	p := PurgedHalfYear{HalfYear: label, PurgedAt: now.UTC().Truncate(time.Second)}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return p, explainWrite(err)
	}
	defer tx.Rollback()
	// The key first: from this statement on, the rows are unreadable.
	if _, err := tx.ExecContext(ctx, `DELETE FROM submission_keys WHERE half_year = ?`, label); err != nil {
		return p, explainWrite(err)
	}
	r, err := tx.ExecContext(ctx, `DELETE FROM sealed_submissions WHERE half_year = ?`, label)
	if err != nil {
		return p, explainWrite(err)
	}
	if p.Records, err = r.RowsAffected(); err != nil {
		return p, err
	}
	if r, err = tx.ExecContext(ctx, `DELETE FROM submission_participants WHERE half_year = ?`, label); err != nil {
		return p, explainWrite(err)
	}
	if p.ParticipantRows, err = r.RowsAffected(); err != nil {
		return p, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO purged_half_years (half_year, purged_at, records, participant_rows) VALUES (?, ?, ?, ?)
ON CONFLICT (half_year) DO UPDATE SET purged_at = excluded.purged_at,
    records = records + excluded.records, participant_rows = participant_rows + excluded.participant_rows`,
		label, p.PurgedAt.Unix(), p.Records, p.ParticipantRows); err != nil {
		return p, explainWrite(err)
	}
	if err := tx.Commit(); err != nil {
		return p, explainWrite(err)
	}
	s.sealing.mu.Lock()
	if s.sealing.cur != nil && s.sealing.cur.label == label {
		s.sealing.cur = nil
	}
	s.sealing.mu.Unlock()
	return p, nil
}

// checkpointTruncate copies the WAL into the database file and truncates
// it to zero bytes, waiting (busy_timeout) for readers, and retrying a few
// times while one keeps it from completing.
func checkpointTruncate(ctx context.Context, conn *sql.Conn) (bool, error) {
	for attempt := 0; ; attempt++ {
		var busy, logFrames, done int
		if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
			return false, err
		}
		if busy == 0 {
			return true, nil
		}
		if attempt == 4 {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// SealedHalfYear counts the sealed records of one half-year, and (after
// VerifySealed) how many opened.
type SealedHalfYear struct {
	HalfYear string
	Records  int64
	HasKey   bool
	Opened   int64 // VerifySealed only
}

// SealedCounts counts the sealed records per half-year, oldest first. It
// needs no KEK.
func (s *SQLite) SealedCounts(ctx context.Context) ([]SealedHalfYear, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT h.half_year,
    (SELECT count(*) FROM sealed_submissions s WHERE s.half_year = h.half_year),
    EXISTS (SELECT 1 FROM submission_keys k WHERE k.half_year = h.half_year)
FROM (SELECT half_year FROM submission_keys UNION SELECT DISTINCT half_year FROM sealed_submissions) h
ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("sealed counts: %w", err)
	}
	defer rows.Close()
	var out []SealedHalfYear
	for rows.Next() {
		var h SealedHalfYear
		if err := rows.Scan(&h.HalfYear, &h.Records, &h.HasKey); err != nil {
			return nil, fmt.Errorf("sealed counts: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// ReadSubmissions opens every sealed record, oldest half-year first, and
// calls fn with its half-year and the record as it was received. A record
// that does not open (its key destroyed, or altered bytes) is an error
// wrapping seal.ErrOpen. It needs the KEK (UseKEK). It is for operators
// checking a key or a backup (VerifySealed), and for tests: nothing in ksn
// prints what it reads.
func (s *SQLite) ReadSubmissions(ctx context.Context, fn func(halfYear string, rec api.Record) error) error {
	return s.eachSealed(ctx, func(label string, id, pt []byte, err error) error {
		if err != nil {
			return err
		}
		var rec api.Record
		if err := json.Unmarshal(pt, &rec); err != nil {
			return fmt.Errorf("record %x of %s: %w", id, label, err)
		}
		return fn(label, rec)
	})
}

// VerifySealed opens every sealed record with the KEK (UseKEK) and counts,
// per half-year, how many there are and how many opened; it reads nothing
// out. An error means that the records could not be read at all.
func (s *SQLite) VerifySealed(ctx context.Context) ([]SealedHalfYear, error) {
	counts, err := s.SealedCounts(ctx)
	if err != nil {
		return nil, err
	}
	idx := map[string]int{}
	for i, c := range counts {
		idx[c.HalfYear] = i
	}
	err = s.eachSealed(ctx, func(label string, _, _ []byte, err error) error {
		if i, ok := idx[label]; ok && err == nil {
			counts[i].Opened++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify sealed records: %w", err)
	}
	return counts, nil
}

// eachSealed opens every sealed record in one read snapshot and calls fn
// with the plaintext, or with the error that kept it from opening.
func (s *SQLite) eachSealed(ctx context.Context, fn func(label string, id, plaintext []byte, err error) error) error {
	s.sealing.mu.Lock()
	kek := s.sealing.kek
	s.sealing.mu.Unlock()
	if kek == nil {
		return ErrNoKEK
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	sealers := map[string]*seal.Sealer{}
	var aad []byte
	return eachRow(ctx, tx, `SELECT s.id, s.half_year, s.sealed, k.wrapped FROM sealed_submissions s
LEFT JOIN submission_keys k ON k.half_year = s.half_year ORDER BY s.half_year, s.id`, nil, func(r *sql.Rows) error {
		var id, sealed, wrapped []byte
		var label string
		if err := r.Scan(&id, &label, &sealed, &wrapped); err != nil {
			return err
		}
		sl, ok := sealers[label]
		if !ok {
			if wrapped == nil {
				return fn(label, id, nil, fmt.Errorf("record %x of %s: its data key is destroyed: %w", id, label, seal.ErrOpen))
			}
			k, err := seal.Unwrap(*kek, label, wrapped)
			if err != nil {
				return err // the KEK does not match: nothing will open
			}
			sl = seal.NewSealer(k)
			sealers[label] = sl
		}
		aad = append(append(aad[:0], id...), label...)
		pt, err := sl.Open(aad, sealed)
		if err != nil {
			err = fmt.Errorf("record %x of %s: %w", id, label, err)
		}
		return fn(label, id, pt, err)
	})
}

// PurgedHalfYears lists the half-years destroyed so far, oldest first.
func (s *SQLite) PurgedHalfYears(ctx context.Context) ([]PurgedHalfYear, error) {
	var out []PurgedHalfYear
	err := eachRow(ctx, s.db, `SELECT half_year, purged_at, records, participant_rows FROM purged_half_years ORDER BY half_year`, nil, func(r *sql.Rows) error {
		var p PurgedHalfYear
		var at int64
		err := r.Scan(&p.HalfYear, &at, &p.Records, &p.ParticipantRows)
		p.PurgedAt = unixTime(at)
		out = append(out, p)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("purged half-years: %w", err)
	}
	return out, nil
}
