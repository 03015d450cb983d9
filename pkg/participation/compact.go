package participation

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// File records are the bulk of the outbox (one per checked file; 20,000
// for a check of 20,000 files), so NewCompactFileRecord keeps them in a
// binary form less than half the size of their JSON, made without
// formatting any hex or JSON while the check runs. The outbox stores that
// form (kind code 4 in the framing); reading a record back renders its
// JSON body, byte for byte the one FileObservation.MarshalJSON makes, so
// `ksn queue show` and the server see exactly what would be sent.
//
// The binary body: version (1), size (uvarint), verdict code (1 byte),
// time spent in microseconds (uvarint), digest count (1 byte), then per
// digest its algorithm code (1 byte) and its raw bytes, in the order of
// the algorithms' names, as the JSON lists them.

const compactVersion = 1

// compactAlgorithms are the digest algorithms a compact record can hold,
// by code, with their sizes. Their names sort in code order.
var compactAlgorithms = [...]struct {
	name string
	size int
}{1: {"blake3", 32}, 2: {"md5", 16}, 3: {"sha1", 20}, 4: {"sha256", 32}}

var verdictCodes = [...]string{"unknown", "clean", "suspicious", "malicious"}

var errBadCompact = errors.New("malformed compact file record")

// FileSum is one digest of a checked file: its algorithm's name
// ("blake3", "sha256", "sha1", "md5") and its raw bytes.
type FileSum struct {
	Algorithm string
	Sum       []byte
}

// NewCompactFileRecord is NewFileRecord for a hot loop: the record of one
// checked file, with a fresh random id, whose body is kept in the outbox's
// compact form. Its Body is nil until it is read back from the outbox.
// sums may come in any order; an unknown algorithm, a digest of the wrong
// length or an unknown verdict is an error.
func NewCompactFileRecord(sums []FileSum, size int64, verdict string, spent time.Duration, now time.Time) (Record, error) {
	if size < 0 || spent < 0 {
		return Record{}, fmt.Errorf("new file record: negative size or time")
	}
	b := make([]byte, 0, 16+len(sums)*33)
	b = append(b, compactVersion)
	b = binary.AppendUvarint(b, uint64(size))
	v := -1
	for i, name := range verdictCodes {
		if name == verdict {
			v = i
		}
	}
	if v < 0 {
		return Record{}, fmt.Errorf("new file record: unknown verdict %q", verdict)
	}
	b = append(b, byte(v))
	b = binary.AppendUvarint(b, uint64(spent.Microseconds()))
	b = append(b, byte(len(sums)))
	n := 0
	for code := 1; code < len(compactAlgorithms); code++ {
		a := compactAlgorithms[code]
		for _, s := range sums {
			if s.Algorithm != a.name {
				continue
			}
			if len(s.Sum) != a.size {
				return Record{}, fmt.Errorf("new file record: %s digest of %d bytes", a.name, len(s.Sum))
			}
			b = append(b, byte(code))
			b = append(b, s.Sum...)
			n++
			break // a repeated algorithm is left over, and refused below
		}
	}
	if n != len(sums) {
		return Record{}, fmt.Errorf("new file record: unknown or repeated digest algorithm")
	}
	r := newRecord(KindFile, nil, now)
	r.encoded, r.compact = nil, b
	return r, nil
}

// renderCompact returns the JSON body of a compact file record body.
func renderCompact(b []byte) ([]byte, error) {
	if len(b) < 1 || b[0] != compactVersion {
		return nil, errBadCompact
	}
	b = b[1:]
	size, k := binary.Uvarint(b)
	if k <= 0 || size > 1<<62 || len(b) < k+1 {
		return nil, errBadCompact
	}
	b = b[k:]
	if int(b[0]) >= len(verdictCodes) {
		return nil, errBadCompact
	}
	obs := FileObservation{Size: int64(size), Verdict: verdictCodes[b[0]], Digests: map[string]string{}}
	b = b[1:]
	micros, k := binary.Uvarint(b)
	if k <= 0 || micros > 1<<53 || len(b) < k+1 {
		return nil, errBadCompact
	}
	obs.HashMS = float64(micros) / 1000
	b = b[k:]
	count := int(b[0])
	b = b[1:]
	for range count {
		if len(b) < 1 || b[0] == 0 || int(b[0]) >= len(compactAlgorithms) {
			return nil, errBadCompact
		}
		a := compactAlgorithms[b[0]]
		if len(b) < 1+a.size {
			return nil, errBadCompact
		}
		if _, dup := obs.Digests[a.name]; dup {
			return nil, errBadCompact
		}
		obs.Digests[a.name] = hex.EncodeToString(b[1 : 1+a.size])
		b = b[1+a.size:]
	}
	if len(b) != 0 {
		return nil, errBadCompact
	}
	return obs.MarshalJSON()
}
