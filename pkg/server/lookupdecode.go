package server

import (
	"bytes"
	"encoding/hex"
	"strconv"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/store"
)

// lookupParser reads the JSON of a lookup request, in the shape clients
// send it; any other shape is not an error here but a reason to let
// encoding/json read it (ok false).
type lookupParser struct {
	b    []byte
	i    int
	slab []byte // the digests, decoded
}

// parseLookup reads {"items":[{"digests":{"alg":"hex",...},"size":n},...]}
// and other fields, which are skipped as encoding/json skips them.
func parseLookup(body []byte) ([]store.FileDigests, bool) {
	p := &lookupParser{b: body, slab: make([]byte, 0, len(body)/2)}
	var files []store.FileDigests
	seen := false
	if !p.lit('{') || p.lit('}') {
		return nil, false
	}
	for {
		key, ok := p.str()
		if !ok || !p.lit(':') {
			return nil, false
		}
		if string(key) == "items" {
			if seen {
				return nil, false
			}
			seen = true
			if files, ok = p.items(); !ok {
				return nil, false
			}
		} else if bytes.EqualFold(key, []byte("items")) || !p.skip(0) {
			return nil, false // encoding/json matches names regardless of case
		}
		if p.lit(',') {
			continue
		}
		if !p.lit('}') {
			return nil, false
		}
		break
	}
	p.ws()
	return files, seen && p.i == len(p.b)
}

func (p *lookupParser) items() ([]store.FileDigests, bool) {
	if !p.lit('[') {
		return nil, false
	}
	files := make([]store.FileDigests, 0, min(api.MaxBatch, len(p.b)/64))
	if p.lit(']') {
		return files, true
	}
	for {
		fd, ok := p.item()
		if !ok {
			return nil, false
		}
		files = append(files, fd)
		if p.lit(',') {
			continue
		}
		return files, p.lit(']')
	}
}

func (p *lookupParser) item() (store.FileDigests, bool) {
	if !p.lit('{') || p.lit('}') {
		return nil, false
	}
	var fd store.FileDigests
	sized := false
	for {
		key, ok := p.str()
		if !ok || !p.lit(':') {
			return nil, false
		}
		switch string(key) {
		case "digests":
			if fd != nil {
				return nil, false
			}
			if fd, ok = p.digests(); !ok {
				return nil, false
			}
		case "size":
			if sized || !p.integer() {
				return nil, false
			}
			sized = true
		default:
			if bytes.EqualFold(key, []byte("digests")) || bytes.EqualFold(key, []byte("size")) || !p.skip(0) {
				return nil, false
			}
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
	if !p.lit('{') || p.lit('}') {
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

func (p *lookupParser) ws() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\n' || p.b[p.i] == '\r' || p.b[p.i] == '\t') {
		p.i++
	}
}

// lit consumes c after any white space.
func (p *lookupParser) lit(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string of printable ASCII without escapes and returns its
// bytes (a view of the body).
func (p *lookupParser) str() ([]byte, bool) {
	if !p.lit('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return p.b[start : p.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// integer reads a JSON integer that fits an int64 (what encoding/json
// would take for api.FileQuery.Size).
func (p *lookupParser) integer() bool {
	p.ws()
	start := p.i
	if p.i < len(p.b) && p.b[p.i] == '-' {
		p.i++
	}
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	s := p.b[start:p.i]
	if len(s) == 0 || s[0] == '0' && len(s) > 1 || len(s) > 1 && s[0] == '-' && s[1] == '0' && len(s) > 2 {
		return false
	}
	_, err := strconv.ParseInt(string(s), 10, 64)
	return err == nil
}

// skip passes over one value of another field: a string, a number, true,
// false, null, or an array or object of those (nested a little).
func (p *lookupParser) skip(depth int) bool {
	p.ws()
	if p.i >= len(p.b) || depth > 8 {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, ok := p.str()
		return ok
	case c == '-' || c >= '0' && c <= '9':
		return p.integer()
	case c == '[' || c == '{':
		close := byte(']')
		if c == '{' {
			close = '}'
		}
		p.i++
		if p.lit(close) {
			return true
		}
		for {
			if c == '{' {
				if _, ok := p.str(); !ok || !p.lit(':') {
					return false
				}
			}
			if !p.skip(depth + 1) {
				return false
			}
			if p.lit(',') {
				continue
			}
			return p.lit(close)
		}
	}
	for _, word := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(p.b[p.i:], []byte(word)) {
			p.i += len(word)
			return true
		}
	}
	return false
}
