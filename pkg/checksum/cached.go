package checksum

import "time"

// directBytes is how many bytes of files named one by one are hashed
// before the stat cache is consulted for the next ones (or the cache
// file's size, when larger): hashing a megabyte takes about as long as
// reading a cache of a few thousand files, so `ksn check file` never reads
// the cache for a small file, while a named 4 GB image is looked up.
const directBytes = 1 << 20

// file hashes one file, or takes its digests from the stat cache when the
// cache can vouch for them, and records what it hashed.
func (w *worker) file(j job, r *Result) {
	var key string
	var known cacheEntry // a trusted entry that lacks some digests asked for
	if j.cacheable {
		key = w.cache.key(j.path)
	}
	if key != "" && !w.rehash {
		var hit bool
		if hit, known = w.fromCache(key, j.path, r); hit {
			return
		}
	}
	start := w.cache.clock()
	var id fileIdentity
	r.Size, r.Digests, id, r.Err = w.hashFile(j.path)
	r.Sniffed = w.sniffed
	if r.Err != nil {
		if r.Skipped() == "" {
			r.Err = describe(r.Err)
		}
		return
	}
	if key != "" {
		w.remember(key, id, start, r.Digests, known, r.Sniffed)
	}
}

// fromCache fills r from the cache when the file is unchanged since its
// entry was made and the entry holds every digest asked for. A trusted
// entry lacking some digests is returned, so that the ones it has are kept
// beside those the file is now hashed for.
func (w *worker) fromCache(key, path string, r *Result) (hit bool, known cacheEntry) {
	e, ok := w.cache.lookup(key)
	if !ok {
		return false, cacheEntry{} // no stat: a cold cache costs nothing per file
	}
	id, regular, err := statPath(path)
	if testHookIdentity != nil {
		testHookIdentity(&id)
	}
	if err != nil || !regular || !e.trusted(id, w.cache.loadedAt) {
		return false, cacheEntry{}
	}
	if !e.algs.has(setOf(w.set.algs)) {
		return false, e
	}
	r.Size, r.Cached, r.Sniffed = id.size, true, e.sniffed
	r.Digests = make(Digests, len(w.set.algs))
	for _, a := range w.set.algs {
		r.Digests[a] = e.digest(a)
	}
	w.cache.touch(key, e)
	return true, cacheEntry{}
}

// remember records the digests of the file that was at id when it was
// opened, hashing having begun at start. Digests a still valid entry held
// beyond those computed now are kept: asking for MD5 once does not cost
// the BLAKE3 of the next run.
func (w *worker) remember(key string, id fileIdentity, start time.Time, d Digests, known cacheEntry, sniffed bool) {
	have := setOf(w.set.algs)
	if known.algs != 0 && known.id == id {
		have |= known.algs
	}
	e := cacheEntry{id: id, cachedAt: start.UnixNano(), algs: have, sniffed: sniffed}
	e.digests = make([]byte, 0, have.digestBytes())
	for i, a := range All {
		if have&(1<<i) == 0 {
			continue
		}
		if b, ok := d[a]; ok {
			e.digests = append(e.digests, b...)
		} else {
			e.digests = append(e.digests, known.digest(a)...)
		}
	}
	w.cache.record(key, e)
}
