package checksum

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// StatCache remembers the digests of files by absolute path, with the
// device, inode, size, mtime and ctime each file had when it was hashed,
// so that a re-check of unchanged files reads none of them (DESIGN §5).
// It holds digests only, never verdicts.
//
// An entry is trusted only while the file's identity and times are those
// it recorded, and only when neither time was within the file system's
// timestamp granularity of the moment the file was hashed: a file written
// again within the same tick would keep its times (git's "racy" rule).
//
// The cache is one file, read whole on first use and replaced whole (a
// temporary file renamed over it) by Save, which merges under a lock what
// other processes saved meanwhile. A file that is damaged or of another
// format is never used: Problem says why, and Save rebuilds it.
//
// Its methods are safe for concurrent use.
type StatCache struct {
	path       string
	maxEntries int
	maxBytes   int64
	now        func() time.Time

	loadOnce sync.Once
	loaded   atomic.Bool // loadOnce has run: table and problem are set
	loadedAt time.Time   // the clock when the file was read
	table    cacheTable
	loadedID fileIdentity // of the file table came from; zero when none
	problem  error        // why the file on disk was not used

	cwdOnce sync.Once
	cwd     string

	sizeOnce sync.Once
	size     int64

	mu      sync.Mutex
	updates []cacheUpdate // in no order; a path may be there twice
}

// cacheUpdate is what a run learnt of one path. A slice of them, sorted
// once by Save, costs the workers less than a map kept in order as they go.
type cacheUpdate struct {
	hash  uint64
	path  []byte
	e     cacheEntry
	touch bool // the entry was found unchanged: only its day of use moves
}

// StatCacheOptions bound a StatCache and give it a clock.
type StatCacheOptions struct {
	MaxEntries int              // default DefaultCacheEntries
	MaxBytes   int64            // default DefaultCacheBytes
	Now        func() time.Time // default time.Now; tests move it
}

// The default bounds: 200,000 files (some 45 MB with typical paths, read
// in tens of milliseconds) and 64 MiB, whichever is reached first. The
// least recently used entries go first.
const (
	DefaultCacheEntries = 200_000
	DefaultCacheBytes   = 64 << 20
)

// The racy windows: how close to the moment a file was hashed its mtime or
// ctime may be for its entry to be distrusted. Local file systems stamp
// times from a clock that ticks every 1–10 ms; times in whole seconds
// (ext3, HFS+, FAT's 2 s, many network file systems) get the wide window.
const (
	racyWindow       = 100 * time.Millisecond
	racyWindowCoarse = 2 * time.Second
)

// lockWait is how long Save waits for another process's Save.
const lockWait = 5 * time.Second

// NewStatCache returns the cache kept in the file at path. Nothing is read
// until a lookup needs it, and nothing is written but by Save.
func NewStatCache(path string, o StatCacheOptions) *StatCache {
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultCacheEntries
	}
	if o.MaxBytes <= 0 || o.MaxBytes > 1<<31 {
		o.MaxBytes = DefaultCacheBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &StatCache{path: path, maxEntries: o.MaxEntries, maxBytes: o.MaxBytes, now: o.Now}
}

// Path is the cache file.
func (c *StatCache) Path() string { return c.path }

// Problem says why the cache file could not be used (damaged, truncated,
// another format), or nil when it could, did not exist, or was never read
// (a run that looked nothing up). Save rebuilds it.
func (c *StatCache) Problem() error {
	if !c.loaded.Load() {
		return nil
	}
	return c.problem
}

// trusted reports whether e describes the file now at id: same identity
// and times, and not racy; now is when the entry was read from the file.
func (e cacheEntry) trusted(id fileIdentity, now time.Time) bool {
	w := int64(racyWindow)
	if e.id.mtimeNs%1e9 == 0 && e.id.ctimeNs%1e9 == 0 {
		w = int64(racyWindowCoarse)
	}
	// A clock set back since the entry was made makes "long before" mean
	// nothing: distrust it.
	return e.id == id && e.id.mtimeNs < e.cachedAt-w && e.id.ctimeNs < e.cachedAt-w &&
		e.cachedAt <= now.UnixNano()
}

// key is the absolute path the cache knows a file by; "" when there is none.
func (c *StatCache) key(path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	c.cwdOnce.Do(func() { c.cwd, _ = os.Getwd() })
	if c.cwd == "" {
		return ""
	}
	return filepath.Join(c.cwd, path)
}

// fileSize is the size of the cache file, 0 when there is none: what
// consulting the cache costs to read.
func (c *StatCache) fileSize() int64 {
	c.sizeOnce.Do(func() {
		if fi, err := os.Stat(c.path); err == nil {
			c.size = fi.Size()
		}
	})
	return c.size
}

func (c *StatCache) ensureLoaded() {
	c.loadOnce.Do(func() {
		defer c.loaded.Store(true)
		// One reading of the clock serves every lookup: the entries
		// were all made before the file was read.
		c.loadedAt = c.now()
		data, id, err := c.read()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				c.problem = err
			}
			return
		}
		t, err := decodeTable(data)
		if err != nil {
			c.problem = err
			return
		}
		c.table, c.loadedID = t, id
	})
}

// read returns the cache file's bytes and identity.
func (c *StatCache) read() ([]byte, fileIdentity, error) {
	f, err := os.Open(c.path)
	if err != nil {
		return nil, fileIdentity{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fileIdentity{}, err
	}
	if fi.Size() > 2*c.maxBytes+headerSize {
		return nil, fileIdentity{}, fmt.Errorf("too large (%d bytes)", fi.Size())
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fileIdentity{}, err
	}
	return data, identityOf(fi), nil
}

// Load reads the cache file now rather than at the first lookup: a
// caller that knows a walk is coming can read it while it opens other
// things. It is safe to call with lookups under way, and more than once.
func (c *StatCache) Load() { c.ensureLoaded() }

// lookup returns the entry for key, loading the file on first use.
func (c *StatCache) lookup(key string) (cacheEntry, bool) {
	c.ensureLoaded()
	return c.table.find(key)
}

// today is the Unix day of the cache's clock.
func (c *StatCache) today() uint32 { return uint32(c.now().Unix() / 86400) }

// record keeps what hashing a file found. The path's hash is computed
// here, on the worker, rather than by Save for every file at the end.
func (c *StatCache) record(key string, e cacheEntry) {
	if len(key) > maxPathBytes {
		return // beyond what the file's record can hold: hashed every time
	}
	e.used = c.today()
	u := cacheUpdate{hash: pathHash(key), path: []byte(key), e: e}
	c.mu.Lock()
	c.updates = append(c.updates, u)
	c.mu.Unlock()
}

// touch notes that e was found unchanged, once a day per entry: the day
// of use is what the bounds drop by, and an unchanged tree re-checked the
// same day leaves the file as it is. The day is the load's, not read again.
func (c *StatCache) touch(key string, e cacheEntry) {
	today := uint32(c.loadedAt.Unix() / 86400)
	if e.used >= today {
		return
	}
	e.used = today
	u := cacheUpdate{hash: pathHash(key), path: []byte(key), e: e, touch: true}
	c.mu.Lock()
	c.updates = append(c.updates, u)
	c.mu.Unlock()
}

// clock is the cache's time, or the zero time without a cache.
func (c *StatCache) clock() time.Time {
	if c == nil {
		return time.Time{}
	}
	return c.now()
}
