package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

// StoreSubmissions seals and stores a batch that from sent, received at
// at, in one transaction, and updates the aggregates of the new records.
// accepted are new records, duplicates ids already stored (or repeated
// within the batch), which change nothing, so that a client may resend a
// batch after any failure. A malformed id or participant fails the whole
// batch before anything is stored. The sender's records count toward
// prevalence only while its code holds one of its license's seats. It is
// a group commit of one batch (storeGroup); QueueWrites groups many.
func (s *Server) StoreSubmissions(ctx context.Context, from Sender, subs []Submission, at time.Time) (accepted, duplicates int, err error) {
	j, err := newGroupJob(ctx, from, subs, at)
	if err != nil {
		return 0, 0, fmt.Errorf("store submissions: %w", err)
	}
	s.storeGroup(ctx, []*groupJob{j})
	if j.err != nil {
		return 0, 0, fmt.Errorf("store submissions: %w", j.err)
	}
	return j.accepted, j.duplicates, nil
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
