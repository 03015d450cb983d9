package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/halfyear"
	"github.com/ksnproject/ksn/pkg/seal"
)

// StoreSubmissions seals and stores a batch that from sent, received at
// at, in one transaction, and updates the aggregates of the new records.
// accepted are new records, duplicates ids already stored (or repeated
// within the batch), which change nothing, so that a client may resend a
// batch after any failure. A malformed id or participant fails the whole
// batch before anything is stored. The sender's records count toward
// prevalence only while its code holds one of its license's seats.
func (s *Server) StoreSubmissions(ctx context.Context, from Sender, subs []Submission, at time.Time) (accepted, duplicates int, err error) {
	fail := func(err error) (int, int, error) { return 0, 0, fmt.Errorf("store submissions: %w", err) }
	part, err := ParseParticipant(from.Participant)
	if err != nil {
		return fail(err)
	}
	ids := make([][]byte, len(subs))
	for i, sub := range subs {
		if ids[i], err = ParseRecordID(sub.Record.ID); err != nil {
			return fail(err)
		}
		if err := sub.checkFacts(); err != nil {
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

	keys, err := s.keysFor(ctx)
	if err != nil {
		return fail(err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fail(explainWrite(err))
	}
	defer tx.Rollback()
	dk, err := s.dataKeyFor(ctx, tx, keys, label, at)
	if err != nil {
		return fail(err)
	}

	// Seal every record, then insert them many rows to a statement (a
	// statement costs more than a row), learning from RETURNING which ids
	// were new. An id twice in the batch must come with the same record
	// both times.
	rows := make([]any, 0, 4*len(subs))
	digests := make([][]byte, len(subs))
	first := make(map[string]int, len(subs)) // id: index of its first record
	var aad, pt []byte
	for i, sub := range subs {
		digests[i] = recordDigest(dk.digest, sub.Record)
		if j, ok := first[string(ids[i])]; ok {
			if !hmac.Equal(digests[i], digests[j]) {
				return fail(&IDReusedError{Index: i, ID: sub.Record.ID})
			}
			continue
		}
		first[string(ids[i])] = i
		pt = appendPlaintext(pt[:0], sub.Record)
		aad = append(append(aad[:0], ids[i]...), label...)
		sealed := dk.sealer.SealWithNonce(make([]byte, 0, len(pt)+seal.Overhead), [seal.NonceSize]byte(nonces[i*seal.NonceSize:]), aad, pt)
		rows = append(rows, ids[i], label, sealed, digests[i])
	}
	inserted := make(map[string]bool, len(subs))
	err = insertRows(ctx, tx, `INSERT INTO sealed_submissions (id, half_year, sealed, digest) VALUES `, 4, rows,
		` ON CONFLICT (id) DO NOTHING RETURNING id`, func(r *sql.Rows) error {
			var id []byte
			err := r.Scan(&id)
			inserted[string(id)] = true
			return err
		})
	if err != nil {
		return fail(explainWrite(err))
	}
	// The ids the insert skipped were stored before: with this record?
	var stored []int
	for id, i := range first {
		if !inserted[id] {
			stored = append(stored, i)
		}
	}
	if len(stored) > 0 {
		slices.Sort(stored) // compared in batch order, chunk by chunk
		if err := s.checkReused(ctx, tx, keys, dk, subs, ids, digests, stored); err != nil {
			return fail(err)
		}
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
	if accepted > 0 {
		seated, err := seatFor(ctx, tx, label, dk.seats, from.License, from.Seats, part)
		if err != nil {
			return fail(err)
		}
		if seated {
			if err := agg.writeParticipants(ctx, tx, label, dk.dedup, part); err != nil {
				return fail(err)
			}
		}
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
