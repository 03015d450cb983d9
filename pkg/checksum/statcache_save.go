package checksum

import (
	"os"
	"path/filepath"
	"slices"
)

// Save writes what this process learnt, merged with the file as it is now
// (another process may have saved since it was read), within the bounds.
// It writes nothing when nothing changed and the file was sound. The new
// file replaces the old one by a rename: a process killed at any moment
// leaves the old cache or the new one, never a mix. It is not fsynced: a
// cache lost or damaged by a crash of the machine is rebuilt, and a
// one-file check should not wait for the disk.
func (c *StatCache) Save() error {
	c.mu.Lock()
	updates := c.updates
	c.updates = nil
	c.mu.Unlock()
	if len(updates) == 0 && c.Problem() == nil {
		return nil
	}
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	unlock, err := lockFile(c.path+".lock", lockWait)
	if err != nil {
		return err
	}
	defer unlock()
	base := c.table
	if fi, err := os.Stat(c.path); err != nil || identityOf(fi) != c.loadedID {
		// Another process replaced the file since it was read (or this
		// one never read it): merge with what is there now. A damaged
		// file was reported when it was loaded; here it is just replaced.
		base = cacheTable{}
		if data, _, err := c.read(); err == nil {
			if t, err := decodeTable(data); err == nil {
				base = t
			}
		}
	}
	entries := boundEntries(mergeEntries(base, updates), c.maxEntries, c.maxBytes)
	return writeAtomic(c.path, encodeTable(entries))
}

// mergeEntries joins the file's entries and this run's updates, in file
// order. For a path in both, the entry hashed last wins, and the later day
// of use is kept.
func mergeEntries(base cacheTable, updates map[string]cacheUpdate) []tableEntry {
	ups := make([]tableEntry, 0, len(updates))
	touched := make(map[string]bool)
	for k, u := range updates {
		ups = append(ups, tableEntry{hash: pathHash(k), path: []byte(k), e: u.e})
		if u.touch {
			touched[k] = true
		}
	}
	slices.SortFunc(ups, compareEntries)
	out := make([]tableEntry, 0, base.count+len(ups))
	i, j := 0, 0
	for i < base.count || j < len(ups) {
		var cmp int
		var b tableEntry
		switch {
		case i == base.count:
			cmp = 1
		default:
			b.hash, b.path, b.e = base.at(i)
			if j == len(ups) {
				cmp = -1
			} else {
				cmp = compareEntries(b, ups[j])
			}
		}
		switch {
		case cmp < 0:
			out = append(out, b)
			i++
		case cmp > 0:
			// A touch of an entry no longer in the file (another process
			// dropped it) brings it back: it was trusted a moment ago.
			out = append(out, ups[j])
			j++
		default:
			u := ups[j]
			used := max(b.e.used, u.e.used)
			if touched[string(u.path)] || b.e.cachedAt > u.e.cachedAt {
				u.e = b.e
			}
			u.e.used = used
			out = append(out, u)
			i++
			j++
		}
	}
	return out
}

// boundEntries drops the least recently used entries (the oldest hashed
// among those of the same day) until at most maxEntries remain and the
// file would take at most maxBytes.
func boundEntries(entries []tableEntry, maxEntries int, maxBytes int64) []tableEntry {
	total := int64(headerSize + trailerSize)
	for _, te := range entries {
		total += te.size()
	}
	if len(entries) <= maxEntries && total <= maxBytes {
		return entries
	}
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ea, eb := entries[a].e, entries[b].e
		if ea.used != eb.used {
			return int(ea.used) - int(eb.used)
		}
		switch {
		case ea.cachedAt < eb.cachedAt:
			return -1
		case ea.cachedAt > eb.cachedAt:
			return 1
		}
		return 0
	})
	drop := make([]bool, len(entries))
	n := len(entries)
	for _, i := range order {
		if n <= maxEntries && total <= maxBytes {
			break
		}
		drop[i] = true
		n--
		total -= entries[i].size()
	}
	kept := entries[:0]
	for i, te := range entries {
		if !drop[i] {
			kept = append(kept, te)
		}
	}
	return kept
}

// writeAtomic replaces path with data by renaming a temporary file of the
// same directory over it.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".statcache-*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
