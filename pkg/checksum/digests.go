package checksum

import (
	"encoding/hex"
	"hash"
	"io"
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

// Reader hashes what r yields with every algorithm of algs in one read,
// for content that is not a file of its own (a mail attachment as it is
// decoded): it returns the byte count and the digests.
func Reader(r io.Reader, algs []Algorithm) (int64, Digests, error) {
	set := newHasherSet(Canonical(algs))
	buf := make([]byte, 64<<10)
	var n int64
	for {
		k, err := r.Read(buf)
		if k > 0 {
			set.write(buf[:k])
			n += int64(k)
		}
		if err == io.EOF {
			return n, set.sums(), nil
		}
		if err != nil {
			return n, nil, err
		}
	}
}

// Hasher computes several digests of what is written to it, for content
// read by someone else (a message read by a mail parser through a
// io.TeeReader).
type Hasher struct {
	set *hasherSet
	n   int64
}

// NewHasher returns a Hasher of algs.
func NewHasher(algs []Algorithm) *Hasher {
	s := newHasherSet(Canonical(algs))
	s.reset()
	return &Hasher{set: s}
}

// Write feeds every digest; it never fails.
func (h *Hasher) Write(p []byte) (int, error) {
	h.set.write(p)
	h.n += int64(len(p))
	return len(p), nil
}

// Sum returns the bytes written and their digests.
func (h *Hasher) Sum() (int64, Digests) { return h.n, h.set.sums() }
