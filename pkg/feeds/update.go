package feeds

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/exitcode"
)

// Updater fetches feeds and imports them, as freshclam does for ClamAV:
// a conditional request for each (an unchanged feed costs one 304 and no
// import), a download to a temporary file that must be complete before
// anything is imported, and one import per feed, all or nothing. It sends
// the feed's URL and its validators, nothing about the user's files.
type Updater struct {
	DB        Database     // closed by Close when it is an io.Closer
	Feeds     []Feed       // the configured feeds (NewUpdater), which Select picks from
	HTTP      *http.Client // with the proxy and the TLS settings; nil: a default one
	StatePath string       // the feeds' state (StateFile beside the database)
	TempDir   string       // where downloads wait for their import; "" the system's
	UserAgent string
	// AllowPlainHTTP lets a redirect lead to a plain http:// URL on another
	// machine (insecure_transport); the configured URL was checked with
	// the settings.
	AllowPlainHTTP bool
	Force          bool          // ignore the validators: download every feed again
	Stall          time.Duration // a download that sends nothing this long fails; 0: 30s
	MaxTime        time.Duration // a download that takes longer fails; 0: 1h
	MaxBytes       int64         // the largest download; 0: 1 GiB
	Bytes          *atomic.Int64 // optional: counts downloaded bytes, for a progress display
	Now            func() time.Time
}

// Outcome is what updating one feed did.
type Outcome string

// The outcomes of an update.
const (
	Added     Outcome = "added"     // imported for the first time
	Updated   Outcome = "updated"   // a new version imported
	Unchanged Outcome = "unchanged" // the server said so (304), or sent the same file
	Failed    Outcome = "failed"    // nothing was imported; Err says why
)

// UpdateResult is one feed's update.
type UpdateResult struct {
	Feed     Feed
	Outcome  Outcome
	Imported *Imported // Added and Updated
	Bytes    int64     // downloaded
	// NotModified: the server answered 304 (Unchanged without it: it sent
	// the file last imported again).
	NotModified bool
	Err         *UpdateError
	Elapsed     time.Duration
	dl          download // the validators to keep
}

// Close closes the database.
func (u *Updater) Close() error {
	if c, ok := u.DB.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func (u *Updater) client() *http.Client {
	c := u.HTTP
	if c == nil {
		c = &http.Client{Transport: http.DefaultTransport}
	}
	cc := *c
	cc.Timeout = 0 // a large feed takes long; a stalled one is stopped by the watchdog
	cc.CheckRedirect = u.checkRedirect
	return &cc
}

// checkRedirect follows a few redirects, never to a plain http:// URL on
// another machine unless that is allowed: a feed over TLS must not be
// downgraded by its server's answer. It sends no Referer, which net/http
// sets to the previous URL, query and all: a feed's URL may hold its
// access key (?auth_key=...), and the redirect's target is another party.
func (u *Updater) checkRedirect(req *http.Request, via []*http.Request) error {
	req.Header.Del("Referer")
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	if !u.AllowPlainHTTP && config.PlainRemote(req.URL.String()) {
		return errors.New("redirected to plain http:// on another machine (set insecure_transport to allow it)")
	}
	return nil
}

func (u *Updater) maxTime() time.Duration {
	if u.MaxTime > 0 {
		return u.MaxTime
	}
	return time.Hour
}

func (u *Updater) stall() time.Duration {
	if u.Stall > 0 {
		return u.Stall
	}
	return 30 * time.Second
}

func (u *Updater) maxBytes() int64 {
	if u.MaxBytes > 0 {
		return u.MaxBytes
	}
	return 1 << 30
}

func (u *Updater) now() time.Time {
	if u.Now != nil {
		return u.Now()
	}
	return time.Now()
}

// Update updates each feed in turn and records what it learnt in the
// state file after each one, so that an interrupted run keeps what it
// finished. A feed that failed keeps its previous state (and its
// validators: the next run downloads it again) with the reason.
func (u *Updater) Update(ctx context.Context, feeds []Feed) ([]UpdateResult, error) {
	st, err := LoadState(u.StatePath)
	if err != nil {
		return nil, err
	}
	var out []UpdateResult
	for _, f := range feeds {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		r := u.one(ctx, f, st.Feeds[f.Name])
		prev := st.Feeds[f.Name]
		st.Feeds[f.Name] = u.record(prev, r)
		if err := SaveState(u.StatePath, st); err != nil {
			return append(out, r), err
		}
		out = append(out, r)
	}
	return out, nil
}

// one updates one feed.
func (u *Updater) one(ctx context.Context, f Feed, prev FeedState) UpdateResult {
	start := u.now()
	r := UpdateResult{Feed: f}
	fail := func(e *UpdateError) UpdateResult {
		r.Outcome, r.Err, r.Elapsed = Failed, e, time.Since(start)
		return r
	}
	switch {
	case !f.Enabled:
		return fail(failure(ReasonSettings, "it is disabled (ksn config set feed.%s.enabled true)", f.Name))
	case f.URL == "":
		return fail(failure(ReasonSettings, "it has no URL (ksn config set feed.%s.url https://...)", f.Name))
	case !u.AllowPlainHTTP && config.PlainRemote(f.URL):
		return fail(failure(ReasonSettings, "its URL is plain http:// on another machine (set insecure_transport to allow it)"))
	}
	first := prev.UpdatedAt.IsZero()
	if prev.URL != f.URL || u.Force {
		prev = FeedState{} // validators of another URL, or none wanted
	}
	dir, err := os.MkdirTemp(u.TempDir, "ksn-feed-")
	if err != nil {
		return fail(failure(ReasonService, "%v", err))
	}
	defer os.RemoveAll(dir)
	d, err := u.fetch(ctx, f, prev, dir)
	r.Bytes = d.size
	var ue *UpdateError
	if errors.As(err, &ue) {
		return fail(ue)
	}
	if d.notModified || (prev.SHA256 != "" && d.sha256 == prev.SHA256) {
		r.Outcome, r.Elapsed, r.NotModified = Unchanged, time.Since(start), d.notModified
		r.Imported = &Imported{Name: f.Name, Format: f.Format}
		r.Imported.Summary.Indicators = prev.Indicators
		r.dl = d
		return r
	}
	res, err := ImportFile(ctx, u.DB, d.path, ImportOptions{Format: f.Format, Source: f.Name})
	if err != nil {
		// The temporary file's path means nothing to the user.
		msg := strings.ReplaceAll(err.Error(), d.path, filepath.Base(d.path))
		return fail(failure(ReasonService, "the download is not a usable feed, nothing was imported: %s", msg))
	}
	r.Outcome, r.Imported, r.Elapsed = Updated, &res, time.Since(start)
	if first {
		r.Outcome = Added
	}
	r.dl = d
	return r
}

// record is the feed's state after r.
func (u *Updater) record(prev FeedState, r UpdateResult) FeedState {
	now := u.now().UTC()
	if r.Outcome == Failed {
		prev.LastError, prev.FailedAt = r.Err.Error(), now
		return prev
	}
	st := prev
	if prev.URL != r.Feed.URL {
		st.ETag, st.LastModified, st.SHA256 = "", "", ""
	}
	st.URL, st.CheckedAt, st.LastError, st.FailedAt = r.Feed.URL, now, "", time.Time{}
	if r.dl.etag != "" {
		st.ETag = r.dl.etag
	}
	if r.dl.lastModified != "" {
		st.LastModified = r.dl.lastModified
	}
	if r.Outcome == Unchanged {
		return st
	}
	st.SHA256, st.UpdatedAt = r.dl.sha256, now
	st.Indicators = r.Imported.Summary.Indicators
	st.Held += r.Imported.Stats.Added
	return st
}

// Failure is how a run of updates ends: nil when every feed updated or
// was unchanged, else an error that counts the failures and carries the
// exit code of the first.
func Failure(results []UpdateResult) error {
	var first *UpdateError
	failed := 0
	for _, r := range results {
		if r.Outcome == Failed {
			failed++
			first = cmp.Or(first, r.Err)
		}
	}
	if first == nil {
		return nil
	}
	return exitcode.New(first.ExitCode(), "%d of %d feeds failed; the database keeps what they held", failed, len(results))
}
