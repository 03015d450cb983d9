package checksum

import (
	"bytes"
	"cmp"
	"io"
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
	return writeAtomic(c.path, func(w io.Writer) error { return writeTable(w, entries) })
}

// mergeEntries joins the file's entries and this run's updates, in file
// order. For a path in both, or twice among the updates, the entry hashed
// last wins, and the latest day of use is kept.
func mergeEntries(base cacheTable, ups []cacheUpdate) []tableEntry {
	// Sort small keys, not the updates: moving 16 bytes a swap instead of
	// a hundred makes the first save of a large tree several times cheaper.
	type sortKey struct {
		hash uint64
		i    int
	}
	keys := make([]sortKey, len(ups))
	for i, u := range ups {
		keys[i] = sortKey{u.hash, i}
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		if a.hash != b.hash {
			return cmp.Compare(a.hash, b.hash)
		}
		if c := bytes.Compare(ups[a.i].path, ups[b.i].path); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i) // stable: a path's updates in the order they came
	})
	out := make([]tableEntry, 0, base.count+len(ups))
	same := func(j int, te tableEntry) bool {
		u := &ups[keys[j].i]
		return u.hash == te.hash && bytes.Equal(u.path, te.path)
	}
	i, j := 0, 0
	for i < base.count || j < len(keys) {
		var cur tableEntry
		have := false
		if i < base.count {
			cur.hash, cur.path, cur.e = base.at(i)
			c := -1
			if j < len(keys) {
				u := &ups[keys[j].i]
				c = compareEntries(cur, tableEntry{hash: u.hash, path: u.path})
			}
			if c < 0 { // no update names it
				out = append(out, cur)
				i++
				continue
			}
			if c == 0 {
				have = true
				i++
			}
		}
		if !have {
			u := &ups[keys[j].i]
			cur = tableEntry{hash: u.hash, path: u.path}
		}
		// Every update of this path, after the file's entry if any.
		for ; j < len(keys) && same(j, cur); j++ {
			cur.e, have = combine(cur.e, have, ups[keys[j].i])
		}
		out = append(out, cur)
	}
	return out
}

// combine applies update u to the entry cur (have: there is one). A file
// hashed later replaces one hashed earlier; a touch only moves the day of
// use, and brings back an entry another process dropped meanwhile (it was
// trusted a moment ago).
func combine(cur cacheEntry, have bool, u cacheUpdate) (cacheEntry, bool) {
	switch {
	case !have:
		return u.e, true
	case u.touch:
	case u.e.cachedAt >= cur.cachedAt:
		u.e.used = max(u.e.used, cur.used)
		return u.e, true
	}
	cur.used = max(cur.used, u.e.used)
	return cur, true
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

// writeAtomic replaces path with what write writes, by renaming a
// temporary file of the same directory over it.
func writeAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".statcache-*.tmp")
	if err != nil {
		return err
	}
	err = write(f)
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
