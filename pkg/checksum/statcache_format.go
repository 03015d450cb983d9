package checksum

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
)

// The stat cache file, format 1. All integers are little-endian.
//
//	header   magic "KSNSTAT\x00" | format u32 | records u32 | blob bytes u32 | reserved u32 (0)
//	records  72 bytes each, sorted by (path hash, path), no path twice:
//	         hash u64 (FNV-1a of the path) | dev u64 | ino u64 | size i64 |
//	         mtime i64 | ctime i64 | cached i64 (all three Unix ns) |
//	         used u32 (Unix day) | path offset u32 | path length u16 |
//	         algorithms u8 (bit i: All[i]) | reserved u8 (0) | digests offset u32
//	blob     the paths and the digests the records point into; the digests of
//	         a record follow each other in the order of All
//	trailer  CRC-32C (Castagnoli) of everything before it
//
// Fixed-size sorted records make a loaded file usable as it is: a lookup
// is a binary search in the bytes read, with no per-entry decoding or
// allocation, so a 20,000-entry cache costs one read and one checksum. The
// checksum is what guarantees that a damaged file never yields a digest.
const (
	cacheMagic   = "KSNSTAT\x00"
	cacheFormat  = 1
	headerSize   = 24
	recordSize   = 72
	trailerSize  = 4
	maxPathBytes = 1<<16 - 1
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errCacheNewer marks a cache file written by a newer ksn: its format is
// not this one's to read.
var errCacheNewer = errors.New("written by a newer version of ksn")

// algSet is a set of algorithms, bit i standing for All[i].
type algSet uint8

func setOf(algs []Algorithm) algSet {
	var s algSet
	for _, a := range algs {
		if i := slices.Index(All, a); i >= 0 {
			s |= 1 << i
		}
	}
	return s
}

func (s algSet) has(t algSet) bool { return s&t == t }

// digestBytes is the length of the digests of every algorithm in s.
func (s algSet) digestBytes() int {
	n := 0
	for i, a := range All {
		if s&(1<<i) != 0 {
			n += a.Size()
		}
	}
	return n
}

// flagSniffed is the bit of a record's flags byte that keeps
// Options.Sniff's answer; the other bits are zero.
const flagSniffed = 1

// cacheEntry is what the cache knows of one path: the file it saw and its
// digests, concatenated in the order of All.
type cacheEntry struct {
	id       fileIdentity
	cachedAt int64  // Unix ns, taken before the file was opened for hashing
	used     uint32 // Unix day it was last hashed or found unchanged
	algs     algSet
	sniffed  bool // Options.Sniff said yes (flag bit 0 of the record)
	digests  []byte
}

// digest returns the digest of a, which the entry must hold.
func (e cacheEntry) digest(a Algorithm) []byte {
	off := 0
	for i, b := range All {
		if b == a {
			return e.digests[off : off+a.Size()]
		}
		if e.algs&(1<<i) != 0 {
			off += b.Size()
		}
	}
	return nil
}

// pathHash is FNV-1a (64 bits): stable across processes and versions,
// unlike hash/maphash, and cheap on short strings.
func pathHash[T string | []byte](p T) uint64 {
	h := uint64(14695981039346656037)
	for i := range len(p) {
		h ^= uint64(p[i])
		h *= 1099511628211
	}
	return h
}

// cacheTable is a decoded cache file: the file's bytes, checked, read in
// place.
type cacheTable struct {
	records []byte
	blob    []byte
	count   int
	// hashes are the records' path hashes, packed: the search runs in
	// 8 bytes a record (L2-sized for tens of thousands) rather than in
	// 72-byte records spread over megabytes, and reads one record at the end.
	hashes []uint64
}

// decodeTable checks data as a whole (size, checksum, every offset, the
// order of the records) before any of it is used; an error says what is
// wrong in words for a warning.
func decodeTable(data []byte) (cacheTable, error) {
	switch {
	case len(data) < len(cacheMagic) && string(data) == cacheMagic[:len(data)]:
		return cacheTable{}, errors.New("truncated")
	case len(data) < len(cacheMagic) || string(data[:len(cacheMagic)]) != cacheMagic:
		return cacheTable{}, errors.New("not a ksn stat cache")
	case len(data) < 12:
		return cacheTable{}, errors.New("truncated")
	}
	le := binary.LittleEndian
	// The format before anything else: a newer one may lay out the rest
	// differently.
	switch format := le.Uint32(data[8:]); {
	case format > cacheFormat:
		return cacheTable{}, fmt.Errorf("%w (format %d)", errCacheNewer, format)
	case format != cacheFormat:
		return cacheTable{}, fmt.Errorf("unknown format %d", format)
	}
	if len(data) < headerSize+trailerSize {
		return cacheTable{}, errors.New("truncated")
	}
	count, blobLen := uint64(le.Uint32(data[12:])), uint64(le.Uint32(data[16:]))
	want := headerSize + count*recordSize + blobLen + trailerSize
	if uint64(len(data)) < want {
		return cacheTable{}, errors.New("truncated")
	}
	if uint64(len(data)) > want || le.Uint32(data[20:]) != 0 {
		return cacheTable{}, errors.New("malformed header")
	}
	body := data[:len(data)-trailerSize]
	if crc32.Checksum(body, crcTable) != le.Uint32(data[len(body):]) {
		return cacheTable{}, errors.New("checksum mismatch")
	}
	t := cacheTable{
		records: body[headerSize : headerSize+count*recordSize],
		blob:    body[headerSize+count*recordSize:],
		count:   int(count),
		hashes:  make([]uint64, count),
	}
	var prevHash uint64
	var prevPath []byte
	for i := range t.count {
		r := t.records[i*recordSize : (i+1)*recordSize]
		off, n := uint64(le.Uint32(r[60:])), uint64(le.Uint16(r[64:]))
		algs := algSet(r[66])
		dOff := uint64(le.Uint32(r[68:]))
		if n == 0 || off+n > blobLen || algs == 0 || algs >= 1<<len(All) || r[67]&^flagSniffed != 0 ||
			dOff+uint64(algs.digestBytes()) > blobLen {
			return cacheTable{}, fmt.Errorf("malformed record %d", i)
		}
		h, p := le.Uint64(r), t.blob[off:off+n]
		if i > 0 && (h < prevHash || h == prevHash && bytes.Compare(p, prevPath) <= 0) {
			return cacheTable{}, fmt.Errorf("record %d out of order", i)
		}
		prevHash, prevPath = h, p
		t.hashes[i] = h
	}
	return t, nil
}

// at returns record i: its hash, path and entry (slices into the table).
func (t cacheTable) at(i int) (uint64, []byte, cacheEntry) {
	le := binary.LittleEndian
	r := t.records[i*recordSize : (i+1)*recordSize]
	off, n := le.Uint32(r[60:]), uint32(le.Uint16(r[64:]))
	e := cacheEntry{
		id: fileIdentity{
			dev: le.Uint64(r[8:]), ino: le.Uint64(r[16:]), size: int64(le.Uint64(r[24:])),
			mtimeNs: int64(le.Uint64(r[32:])), ctimeNs: int64(le.Uint64(r[40:])),
		},
		cachedAt: int64(le.Uint64(r[48:])),
		used:     le.Uint32(r[56:]),
		algs:     algSet(r[66]),
		sniffed:  r[67]&flagSniffed != 0,
	}
	dOff := le.Uint32(r[68:])
	e.digests = t.blob[dOff : int(dOff)+e.algs.digestBytes()]
	return le.Uint64(r), t.blob[off : off+n], e
}

// find looks path up. Path hashes are uniform, so the first guess is
// where the hash would sit in an even spread, and the search narrows from
// there: two or three probes where a binary search takes fifteen, each of
// which would touch another page of the file.
func (t cacheTable) find(path string) (cacheEntry, bool) {
	if t.count == 0 {
		return cacheEntry{}, false
	}
	h := pathHash(path)
	hashAt := func(i int) uint64 { return t.hashes[i] }
	lo, hi := 0, t.count // the first record with a hash >= h is in [lo, hi]
	for step := 0; lo < hi; step++ {
		lh, hh := hashAt(lo), hashAt(hi-1)
		if h <= lh {
			hi = lo
			break
		}
		if h > hh {
			lo = hi
			break
		}
		// Interpolate within (lh, hh], every other step: the halving
		// steps between keep a file of skewed hashes (a crafted one) to
		// a binary search's cost.
		m := int(uint(lo+hi) >> 1)
		if step%2 == 0 {
			m = lo + int(float64(h-lh)/float64(hh-lh)*float64(hi-1-lo))
		}
		m = min(max(m, lo), hi-1)
		if hashAt(m) < h {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for i := lo; i < t.count && t.hashes[i] == h; i++ {
		if _, p, e := t.at(i); string(p) == path {
			return e, true
		}
	}
	return cacheEntry{}, false
}

// tableEntry is one record to encode.
type tableEntry struct {
	hash uint64
	path []byte
	e    cacheEntry
}

// entrySize is what an entry takes in the file.
func (te tableEntry) size() int64 {
	return int64(recordSize + len(te.path) + len(te.e.digests))
}

// compareEntries orders entries as the file does.
func compareEntries(a, b tableEntry) int {
	if a.hash != b.hash {
		if a.hash < b.hash {
			return -1
		}
		return 1
	}
	return bytes.Compare(a.path, b.path)
}

// encodeTable is writeTable into memory.
func encodeTable(entries []tableEntry) []byte {
	var b bytes.Buffer
	writeTable(&b, entries) // a bytes.Buffer does not fail
	return b.Bytes()
}

// writeTable writes entries, which must be in file order without a path
// twice, as a cache file. It streams through a small buffer: a 20,000-file
// cache is not first built whole in memory.
func writeTable(w io.Writer, entries []tableEntry) error {
	blobLen := 0
	for _, te := range entries {
		blobLen += len(te.path) + len(te.e.digests)
	}
	sum := crc32.New(crcTable)
	bw := bufio.NewWriterSize(io.MultiWriter(w, sum), 64<<10)
	le := binary.LittleEndian
	var r [recordSize]byte
	copy(r[:], cacheMagic)
	le.PutUint32(r[8:], cacheFormat)
	le.PutUint32(r[12:], uint32(len(entries)))
	le.PutUint32(r[16:], uint32(blobLen))
	le.PutUint32(r[20:], 0)
	bw.Write(r[:headerSize])
	pos := 0
	for _, te := range entries {
		e := te.e
		le.PutUint64(r[0:], te.hash)
		le.PutUint64(r[8:], e.id.dev)
		le.PutUint64(r[16:], e.id.ino)
		le.PutUint64(r[24:], uint64(e.id.size))
		le.PutUint64(r[32:], uint64(e.id.mtimeNs))
		le.PutUint64(r[40:], uint64(e.id.ctimeNs))
		le.PutUint64(r[48:], uint64(e.cachedAt))
		le.PutUint32(r[56:], e.used)
		le.PutUint32(r[60:], uint32(pos))
		le.PutUint16(r[64:], uint16(len(te.path)))
		r[66], r[67] = byte(e.algs), 0
		if e.sniffed {
			r[67] = flagSniffed
		}
		le.PutUint32(r[68:], uint32(pos+len(te.path)))
		bw.Write(r[:])
		pos += len(te.path) + len(te.e.digests)
	}
	for _, te := range entries {
		bw.Write(te.path)
		bw.Write(te.e.digests)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	le.PutUint32(r[:4], sum.Sum32())
	_, err := w.Write(r[:4])
	return err
}
