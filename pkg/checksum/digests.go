package checksum

import (
	"encoding/hex"
	"hash"
)

// Digests holds the digests of one object, keyed by algorithm.
type Digests map[Algorithm][]byte

// Hex returns the lower-case hex form of the digest for a, or "" when it
// was not computed.
func (d Digests) Hex(a Algorithm) string {
	if b, ok := d[a]; ok {
		return hex.EncodeToString(b)
	}
	return ""
}

// hasherSet is one hash.Hash per algorithm, reused across files by a worker
// so that hashing 20,000 small files does not allocate 40,000 hashers.
type hasherSet struct {
	algs   []Algorithm
	hashes []hash.Hash
}

func newHasherSet(algs []Algorithm) *hasherSet {
	s := &hasherSet{algs: algs, hashes: make([]hash.Hash, len(algs))}
	for i, a := range algs {
		s.hashes[i] = a.New()
	}
	return s
}

func (s *hasherSet) reset() {
	for _, h := range s.hashes {
		h.Reset()
	}
}

func (s *hasherSet) write(p []byte) {
	for _, h := range s.hashes {
		h.Write(p) // hash.Hash.Write never returns an error
	}
}

func (s *hasherSet) sums() Digests {
	d := make(Digests, len(s.algs))
	for i, a := range s.algs {
		d[a] = s.hashes[i].Sum(nil)
	}
	return d
}
