package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"

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
