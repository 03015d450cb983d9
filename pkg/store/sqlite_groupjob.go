package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/halfyear"
	"github.com/ksnproject/ksn/pkg/seal"
)

// groupJob is one batch of submissions in a group commit: checked as
// StoreSubmissions checks a batch before anything is written, then
// answered on its own (accepted, duplicates, err) however the group went.
type groupJob struct {
	ctx   context.Context
	from  Sender
	part  []byte
	subs  []Submission
	ids   [][]byte
	at    time.Time
	label string

	// What seal made of the records under the data key under; the writer
	// uses it when under is the key it has for the half-year.
	under   *dataKey
	digests [][]byte // recordDigest of each record
	sealed  [][]byte // each record sealed
	seen    [][]byte // each record's participant-and-object tags, 16 bytes for each of its objects (appendObjects)

	accepted, duplicates int
	err                  error
	done                 chan struct{} // closed once answered (QueueWrites)
}

// newGroupJob checks a batch: a malformed participant, id or fact fails
// it before it is queued or written.
func newGroupJob(ctx context.Context, from Sender, subs []Submission, at time.Time) (*groupJob, error) {
	part, err := ParseParticipant(from.Participant)
	if err != nil {
		return nil, err
	}
	ids := make([][]byte, len(subs))
	for i, sub := range subs {
		if ids[i], err = ParseRecordID(sub.Record.ID); err != nil {
			return nil, err
		}
		if err := sub.checkFacts(); err != nil {
			return nil, err
		}
	}
	at = at.UTC()
	return &groupJob{ctx: ctx, from: from, part: part, subs: subs, ids: ids, at: at, label: halfyear.Of(at).String()}, nil
}

// seal digests, seals and tags every record of the batch under dk, the
// data key of its half-year. It is most of a batch's CPU outside the
// database, so QueueWrites has the submitter's goroutine do it, under the
// key last used, before the batch queues (prepareGroupJob); the writer
// does it again only when the key it gets for the half-year is another.
func (j *groupJob) seal(dk *dataKey) error {
	nonces := make([]byte, seal.NonceSize*len(j.subs))
	if _, err := rand.Read(nonces); err != nil {
		return err
	}
	j.digests = make([][]byte, len(j.subs))
	j.sealed = make([][]byte, len(j.subs))
	j.seen = make([][]byte, len(j.subs))
	m := hmac.New(sha256.New, dk.dedup[:])
	var aad, pt []byte
	var refs []objectRef
	for i, sub := range j.subs {
		j.digests[i] = recordDigest(dk.digest, sub.Record)
		pt = appendPlaintext(pt[:0], sub.Record)
		aad = append(append(aad[:0], j.ids[i]...), j.label...)
		j.sealed[i] = dk.sealer.SealWithNonce(make([]byte, 0, len(pt)+seal.Overhead), [seal.NonceSize]byte(nonces[i*seal.NonceSize:]), aad, pt)
		refs = appendObjects(refs[:0], sub)
		for _, ref := range refs {
			m.Reset()
			m.Write(j.part)
			m.Write([]byte(ref.kind))
			m.Write([]byte{0})
			m.Write(ref.key[:])
			j.seen[i] = append(j.seen[i], m.Sum(nil)[:16]...)
		}
	}
	j.under = dk
	return nil
}

// prepareGroupJob seals a batch, in its submitter's goroutine, under the
// data key last used when it is the batch's half-year's (it nearly
// always is).
func (s *Server) prepareGroupJob(j *groupJob) {
	s.sealing.mu.Lock()
	cur := s.sealing.cur
	s.sealing.mu.Unlock()
	if cur != nil && cur.label == j.label {
		_ = j.seal(cur) // on failure the writer seals it
	}
}

// appendObjects appends the objects a record reports to dst: a file, a
// link, or a spam message's body and sender networks; none for a system
// record. The participants of each are counted.
func appendObjects(dst []objectRef, sub Submission) []objectRef {
	switch {
	case sub.File != nil:
		return append(dst, objectRef{ObjectFile, sub.File.SHA256})
	case sub.URL != nil:
		return append(dst, objectRef{ObjectURL, sub.URL.Key})
	case sub.Spam != nil:
		return appendSpamObjects(dst, sub.Spam)
	}
	return dst
}

// storedRecord is what a group needs of a record stored before (or
// earlier in the group): its half-year and digest.
type storedRecord struct {
	label  string
	digest []byte
}

// storedRecords reads the half-year and digest of every id of the group
// that is stored already. The transaction holds the write lock, so what
// it reads stays true until the group commits.
func storedRecords(ctx context.Context, tx *sql.Tx, jobs []*groupJob) (map[string]storedRecord, error) {
	out := map[string]storedRecord{}
	var ids []any
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		err := eachRow(ctx, tx, `SELECT id, half_year, digest FROM sealed_submissions WHERE id IN (`+
			strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+`)`, ids, func(r *sql.Rows) error {
			var id, digest []byte
			var label string
			err := r.Scan(&id, &label, &digest)
			out[string(id)] = storedRecord{label, digest}
			return err
		})
		ids = ids[:0]
		return err
	}
	for _, j := range jobs {
		for _, id := range j.ids {
			if ids = append(ids, id); len(ids) == maxParams {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, flush()
}

// maxParams bounds the parameters of one statement (SQLite allows 32,766).
const maxParams = 32000

// insertRows runs head + "(?, ...), (?, ...)" + tail for the rows in args
// (cols values each), as many rows to a statement as maxParams allows,
// and returns how many rows the statements changed; with a RETURNING
// tail, fn sees every row returned (and the count is 0).
func insertRows(ctx context.Context, tx *sql.Tx, head string, cols int, args []any, tail string, fn func(*sql.Rows) error) (changed int64, err error) {
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	for len(args) > 0 {
		n := min(len(args)/cols, maxParams/cols)
		chunk := args[:n*cols]
		args = args[n*cols:]
		q := head + strings.TrimSuffix(strings.Repeat(tuple+", ", n), ", ") + tail
		if fn != nil {
			if err := eachRow(ctx, tx, q, chunk, fn); err != nil {
				return changed, err
			}
			continue
		}
		r, err := tx.ExecContext(ctx, q, chunk...)
		if err != nil {
			return changed, err
		}
		n64, err := r.RowsAffected()
		if err != nil {
			return changed, err
		}
		changed += n64
	}
	return changed, nil
}

// sortRows sorts the rows of args (cols values each) by cmp.
func sortRows(args []any, cols int, cmp func(a, b []any) int) {
	rows := make([][]any, 0, len(args)/cols)
	for i := 0; i < len(args); i += cols {
		rows = append(rows, slices.Clone(args[i:i+cols]))
	}
	slices.SortFunc(rows, cmp)
	for i, r := range rows {
		copy(args[i*cols:], r)
	}
}
