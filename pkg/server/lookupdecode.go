package server

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/store"
)

// decodeFileLookup reads a file lookup's body under decodeBatch's rules
// (items counted and charged as they are decoded, cut at api.MaxBatch)
// into each item's digests. A body in the shape clients send,
// {"items":[{"digests":{...},"size":n},...]} without escapes, is read by
// lookupParser as it streams in, every digest decoded straight into one
// buffer: encoding/json spends far more on the maps, strings and hex copies
// of each item. At anything else the parser stops, and the bytes it read
// and the rest of the body go through decodeBatch and parseDigests, as
// every body did before, so that what is refused, and how, stays theirs;
// the items the parser charged are not charged again (meter.item). itemErr
// is the first item whose digests are wrong (a 400 naming it).
func decodeFileLookup(body io.Reader, item func(n int) error) (files []store.FileDigests, itemErr, err error) {
	p := &lookupParser{r: body, item: item}
	files, err = p.lookup()
	if !errors.Is(err, errNotFast) {
		return files, nil, err
	}
	items, err := decodeBatch[api.FileQuery](io.MultiReader(bytes.NewReader(p.b), body), "items", nil, item)
	if err != nil {
		return nil, nil, err
	}
	files = make([]store.FileDigests, len(items)) // counted in the log even when an item is wrong
	for i, it := range items {
		if files[i], err = parseDigests(it.Digests); err != nil {
			return files, fmt.Errorf("items[%d]: %v", i, err), nil
		}
	}
	return files, nil, nil
}

// errNotFast stops lookupParser at a body it leaves to encoding/json.
var errNotFast = errors.New("not in the fast reader's shape")

// lookupParser reads a lookup body from r as it needs it, keeping every
// byte read in b (at most the endpoint's body limit), so that the slices
// it hands out stay valid and a fallback can read the body again.
type lookupParser struct {
	r    io.Reader
	b    []byte
	i    int
	err  error // from r, io.EOF included
	item func(n int) error
	slab []byte // decoded digests, allocated a chunk at a time
}

// more reads the next part of the body; false at its end or a read error.
func (p *lookupParser) more() bool {
	if p.err != nil {
		return false
	}
	if cap(p.b)-len(p.b) < 512 { // doubled: a one-item lookup reads into 1 KiB
		p.b = append(make([]byte, 0, max(2*cap(p.b), 1<<10)), p.b...)
	}
	n, err := p.r.Read(p.b[len(p.b):cap(p.b)])
	p.b = p.b[:len(p.b)+n]
	if err != nil {
		p.err = err
	}
	return n > 0 || err == nil
}

// peek returns the next byte after white space, reading as needed.
func (p *lookupParser) peek() (byte, bool) {
	for {
		for p.i < len(p.b) {
			switch c := p.b[p.i]; c {
			case ' ', '\n', '\r', '\t':
				p.i++
			default:
				return c, true
			}
		}
		if !p.more() {
			return 0, false
		}
	}
}

// lit consumes c after any white space.
func (p *lookupParser) lit(c byte) bool {
	if got, ok := p.peek(); ok && got == c {
		p.i++
		return true
	}
	return false
}

// stop is the error that ends a parse that went wrong at this point: a
// read error (the body too large, its deadline) is the request's answer;
// anything else, including the body's end, is encoding/json's to judge.
func (p *lookupParser) stop() error {
	if p.err != nil && p.err != io.EOF {
		return p.err
	}
	return errNotFast
}

// lookup reads {"items":[...]} and nothing else.
func (p *lookupParser) lookup() ([]store.FileDigests, error) {
	if !p.lit('{') {
		return nil, p.stop()
	}
	key, ok := p.str()
	if !ok || string(key) != "items" || !p.lit(':') || !p.lit('[') {
		return nil, p.stop()
	}
	var files []store.FileDigests
	if !p.lit(']') {
		for {
			if len(files) == api.MaxBatch {
				return nil, errTooManyItems // as decodeList: another element follows
			}
			fd, ok := p.fileItem()
			if !ok {
				return nil, p.stop()
			}
			files = append(files, fd)
			if err := p.item(len(files)); err != nil {
				return nil, err
			}
			if p.lit(',') {
				continue
			}
			if !p.lit(']') {
				return nil, p.stop()
			}
			break
		}
	}
	if !p.lit('}') {
		return nil, p.stop()
	}
	if _, ok := p.peek(); ok || p.err != io.EOF {
		return nil, p.stop() // data after the object, or a read error
	}
	return files, nil
}

// fileItem reads {"digests":{...},"size":n} (either order, size optional).
func (p *lookupParser) fileItem() (store.FileDigests, bool) {
	if !p.lit('{') {
		return nil, false
	}
	var fd store.FileDigests
	sized := false
	for {
		key, ok := p.str()
		if !ok || !p.lit(':') {
			return nil, false
		}
		switch {
		case string(key) == "digests" && fd == nil:
			if fd, ok = p.digests(); !ok {
				return nil, false
			}
		case string(key) == "size" && !sized:
			if !p.integer() {
				return nil, false
			}
			sized = true
		default:
			return nil, false
		}
		if p.lit(',') {
			continue
		}
		return fd, fd != nil && p.lit('}')
	}
}

// digests reads {"alg":"hex",...} of known algorithms and right lengths,
// each digest decoded into the slab.
func (p *lookupParser) digests() (store.FileDigests, bool) {
	if !p.lit('{') {
		return nil, false
	}
	fd := make(store.FileDigests, 2)
	for {
		key, ok := p.str()
		if !ok || !p.lit(':') {
			return nil, false
		}
		alg := checksum.Algorithm(key)
		if !alg.Valid() || fd[alg] != nil {
			return nil, false
		}
		h, ok := p.str()
		if !ok || len(h) != 2*alg.Size() {
			return nil, false
		}
		if cap(p.slab)-len(p.slab) < alg.Size() { // chunks from 128 bytes to 16 KiB
			p.slab = make([]byte, 0, min(16<<10, max(128, 2*cap(p.slab))))
		}
		n := len(p.slab)
		p.slab = p.slab[:n+alg.Size()]
		if _, err := hex.Decode(p.slab[n:], h); err != nil {
			return nil, false
		}
		fd[alg] = p.slab[n : n+alg.Size() : n+alg.Size()]
		if p.lit(',') {
			continue
		}
		return fd, p.lit('}')
	}
}

// str reads a string of printable ASCII without escapes and returns its
// bytes (a view of b, valid until the parse ends).
func (p *lookupParser) str() ([]byte, bool) {
	if !p.lit('"') {
		return nil, false
	}
	start := p.i
	for {
		for p.i < len(p.b) {
			switch c := p.b[p.i]; {
			case c == '"':
				p.i++
				return p.b[start : p.i-1], true
			case c == '\\' || c < 0x20 || c >= 0x80:
				return nil, false
			}
			p.i++
		}
		if !p.more() {
			return nil, false
		}
	}
}

// integer reads a JSON integer that fits an int64 (what encoding/json
// takes for api.FileQuery.Size), followed by a byte that ends it.
func (p *lookupParser) integer() bool {
	if _, ok := p.peek(); !ok {
		return false
	}
	start := p.i
	for {
		for p.i < len(p.b) && (p.b[p.i] == '-' && p.i == start || p.b[p.i] >= '0' && p.b[p.i] <= '9') {
			p.i++
		}
		if p.i < len(p.b) || !p.more() {
			break
		}
	}
	s := p.b[start:p.i]
	digits := bytes.TrimPrefix(s, []byte("-"))
	if len(digits) == 0 || digits[0] == '0' && len(digits) > 1 {
		return false
	}
	_, err := strconv.ParseInt(string(s), 10, 64)
	return err == nil
}
