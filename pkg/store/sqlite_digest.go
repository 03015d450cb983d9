package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/seal"
)

// digestPurpose derives, from a half-year's data key, the key of the
// record digests stored beside its sealed records.
const digestPurpose = "ksn-record-digest-v1"

// recordDigest is what sealed_submissions.digest holds of a record: 16
// bytes of HMAC-SHA256, under a key derived from its half-year's data
// key, of its kind, creation time and body. The body is compacted and the
// time taken as an instant, so that a record resent unchanged has the same
// digest however its JSON was spaced or its time zone spelt. Keyed, so
// that the digest confirms no guess of a record's content to anyone
// without the data key, and is shredded with it.
func recordDigest(key seal.Key, r api.Record) []byte {
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(r.Kind))
	m.Write([]byte{0})
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], uint64(r.CreatedAt.UnixNano()))
	m.Write(t[:])
	var body bytes.Buffer
	if json.Compact(&body, r.Body) == nil {
		m.Write(body.Bytes())
	} else {
		m.Write(r.Body)
	}
	return m.Sum(nil)[:16]
}

// checkReused compares the records of a batch whose ids were stored
// before (their indexes in subs) with what was stored, by digest, and
// fails with an *IDReusedError on the first that differs. A record of an
// earlier half-year is compared under that half-year's key; one stored
// before digests were kept (NULL) counts as the same.
func (s *Server) checkReused(ctx context.Context, tx *sql.Tx, keys DataKeys, cur *dataKey, subs []Submission, ids [][]byte, digests [][]byte, idx []int) error {
	byID := make(map[string]int, len(idx))
	for _, i := range idx {
		byID[string(ids[i])] = i
	}
	digestKeys := map[string]seal.Key{cur.label: cur.digest}
	for len(idx) > 0 {
		chunk := idx[:min(len(idx), lookupChunk)]
		idx = idx[len(chunk):]
		args := make([]any, len(chunk))
		for j, i := range chunk {
			args[j] = ids[i]
		}
		err := eachRow(ctx, tx, `SELECT id, half_year, digest FROM sealed_submissions WHERE id IN (`+
			strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",")+`)`, args, func(r *sql.Rows) error {
			var id, stored []byte
			var label string
			if err := r.Scan(&id, &label, &stored); err != nil {
				return err
			}
			i, ok := byID[string(id)]
			if !ok || stored == nil {
				return nil
			}
			want := digests[i]
			if label != cur.label {
				k, ok := digestKeys[label]
				if !ok {
					dk, err := s.halfYearKey(keys, label)
					if err != nil {
						return fmt.Errorf("compare record %x with %s: %w", id, label, err)
					}
					k = seal.Derive(dk, digestPurpose)
					digestKeys[label] = k
				}
				want = recordDigest(k, subs[i].Record)
			}
			if !hmac.Equal(stored, want) {
				return &IDReusedError{Index: i, ID: subs[i].Record.ID}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
