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

// reuseCheck compares stored records with a batch's records of the same
// ids, by digest: a record of the batch's half-year under its key (cur),
// one of an earlier half-year under that half-year's, unwrapped once.
type reuseCheck struct {
	sg      *sealing
	keys    DataKeys
	byLabel map[string]seal.Key // digest keys
	subs    []Submission
	digests [][]byte // of subs under cur
	cur     string
}

func newReuseCheck(sg *sealing, keys DataKeys, cur *dataKey, subs []Submission, digests [][]byte) *reuseCheck {
	return &reuseCheck{sg: sg, keys: keys, byLabel: map[string]seal.Key{cur.label: cur.digest}, subs: subs, digests: digests, cur: cur.label}
}

// same reports whether record i of the batch is the record stored under
// its id in half-year label with digest stored. A record stored before
// digests were kept (nil) counts as the same.
func (c *reuseCheck) same(i int, label string, stored []byte) (bool, error) {
	if stored == nil {
		return true, nil
	}
	want := c.digests[i]
	if label != c.cur {
		k, ok := c.byLabel[label]
		if !ok {
			dk, err := c.sg.halfYearKey(c.keys, label)
			if err != nil {
				return false, fmt.Errorf("compare record %s with %s: %w", c.subs[i].Record.ID, label, err)
			}
			k = seal.Derive(dk, digestPurpose)
			c.byLabel[label] = k
		}
		want = recordDigest(k, c.subs[i].Record)
	}
	return hmac.Equal(stored, want), nil
}

// checkReused compares the records of a batch whose ids were stored
// before (their indexes in subs) with what was stored, by digest, and
// fails with an *IDReusedError on the first in batch order that differs.
func (s *Server) checkReused(ctx context.Context, tx *sql.Tx, keys DataKeys, cur *dataKey, subs []Submission, ids [][]byte, digests [][]byte, idx []int) error {
	byID := make(map[string]int, len(idx))
	for _, i := range idx {
		byID[string(ids[i])] = i
	}
	check := newReuseCheck(&s.sealing, keys, cur, subs, digests)
	reused := -1
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
			if !ok {
				return nil
			}
			same, err := check.same(i, label, stored)
			if err == nil && !same && (reused < 0 || i < reused) {
				reused = i
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	if reused >= 0 {
		return &IDReusedError{Index: reused, ID: subs[reused].Record.ID}
	}
	return nil
}
