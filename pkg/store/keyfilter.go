package store

import (
	"hash/maphash"
	"math/bits"
	"slices"

	"github.com/ksnproject/ksn/pkg/checksum"
)

// keyFilter is a set of 64-bit fingerprints of database keys (indicator
// digests, reported objects), sorted and indexed by their top bits so that
// a probe reads two cache lines. serverFilter uses it to answer "may the
// database hold this key?" from memory: a fingerprint found is checked
// with SQLite, one not found is the answer. A made-up key whose
// fingerprint matches costs what every lookup cost before the filter, one
// SQLite search, and finds nothing; the fingerprints are seeded afresh by
// each process, so such keys cannot be computed in advance.
//
// Nine bytes a key: 10⁷ keys take 90 MB.
type keyFilter struct {
	keys    []uint64 // sorted, distinct
	buckets []uint32 // buckets[b]: index of the first key whose top bits are ≥ b; one past the end
	shift   uint     // 64 − the bits of a bucket index
}

// newKeyFilter builds a filter of fingerprints, which it sorts in place.
func newKeyFilter(fps []uint64) *keyFilter {
	slices.Sort(fps)
	fps = slices.Compact(fps)
	// About four keys a bucket: a probe scans a few neighbours.
	b := min(max(bits.Len(uint(len(fps)/4)), 1), 26)
	f := &keyFilter{keys: fps, shift: uint(64 - b), buckets: make([]uint32, 1<<b+1)}
	i := 0
	for bucket := range 1 << b {
		for i < len(fps) && int(fps[i]>>f.shift) < bucket {
			i++
		}
		f.buckets[bucket] = uint32(i)
	}
	f.buckets[1<<b] = uint32(len(fps))
	return f
}

// has reports whether fp is one of the filter's fingerprints.
func (f *keyFilter) has(fp uint64) bool {
	b := fp >> f.shift
	for _, k := range f.keys[f.buckets[b]:f.buckets[b+1]] {
		if k >= fp {
			return k == fp
		}
	}
	return false
}

// fingerprints computes the keys of one process's filters.
type fingerprints struct{ seed maphash.Seed }

func newFingerprints() fingerprints { return fingerprints{maphash.MakeSeed()} }

// file is the fingerprint of an indicator's key.
func (p fingerprints) file(alg checksum.Algorithm, digest []byte) uint64 {
	var h maphash.Hash
	h.SetSeed(p.seed)
	h.WriteString("file:")
	h.WriteString(string(alg))
	h.WriteByte(0)
	h.Write(digest)
	return h.Sum64()
}

// object is the fingerprint of an object_stats key.
func (p fingerprints) object(kind string, object []byte) uint64 {
	var h maphash.Hash
	h.SetSeed(p.seed)
	h.WriteString("object:")
	h.WriteString(kind)
	h.WriteByte(0)
	h.Write(object)
	return h.Sum64()
}
