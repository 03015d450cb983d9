package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
)

// Reasons a feed update fails; each has its exit code (UpdateError.ExitCode).
const (
	ReasonOffline  = "offline"       // the server could not be reached
	ReasonDenied   = "denied"        // 401 or 403: the feed wants an account key
	ReasonLimited  = "rate-limited"  // 429
	ReasonService  = "service-error" // any other answer, a cut download, a bad feed
	ReasonSettings = "configuration" // no URL, an unsafe one, a disabled feed
)

// UpdateError is why one feed was not updated.
type UpdateError struct {
	Reason string
	Err    error
}

func (e *UpdateError) Error() string { return e.Err.Error() }
func (e *UpdateError) Unwrap() error { return e.Err }

// ExitCode is the exit status of an update that failed for this reason,
// the same as a network failure of the kind ends a check with.
func (e *UpdateError) ExitCode() exitcode.Code {
	switch e.Reason {
	case ReasonOffline:
		return exitcode.Offline
	case ReasonDenied:
		return exitcode.LicenseBlocked
	case ReasonLimited:
		return exitcode.RateLimited
	case ReasonSettings:
		return exitcode.Usage
	}
	return exitcode.ServiceError
}

func failure(reason, format string, args ...any) *UpdateError {
	return &UpdateError{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// download is a feed fetched to a temporary file, complete.
type download struct {
	path         string // the file, named after the URL's last part
	size         int64
	sha256       string
	etag         string
	lastModified string
	notModified  bool
}

// fetch asks for the feed, conditionally when validators are given, and
// writes a 200's body to a file in dir. A body shorter than its
// Content-Length, a gzip stream that does not end with its checksum, a
// body larger than maxBytes, or a server that stops sending for stall are
// errors: the caller imports only a complete file.
func (u *Updater) fetch(parent context.Context, f Feed, prev FeedState, dir string) (download, error) {
	// The watchdog stops a download that sends nothing; the deadline one
	// that trickles a byte just often enough to keep it fed.
	ctx, cancel := context.WithTimeout(parent, u.maxTime())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return download{}, failure(ReasonSettings, "bad URL: %v", err)
	}
	req.Header.Set("User-Agent", u.UserAgent)
	if prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		req.Header.Set("If-Modified-Since", prev.LastModified)
	}
	resp, err := u.client().Do(req)
	if err != nil {
		return download{}, transportFailure(err)
	}
	defer resp.Body.Close()
	d := download{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}
	switch code := resp.StatusCode; {
	case code == http.StatusNotModified:
		d.notModified = true
		return d, nil
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		return d, failure(ReasonDenied, "the server refused it (HTTP %d): the feed may need an account key", code)
	case code == http.StatusTooManyRequests:
		wait := ""
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			wait = ", and asks to wait " + retryAfterText(ra)
		}
		return d, failure(ReasonLimited, "the server limits requests (HTTP 429)%s", wait)
	case code != http.StatusOK:
		return d, failure(ReasonService, "the server answered HTTP %d", code)
	}

	file, err := os.Create(filepath.Join(dir, fileNameOf(f.URL)))
	if err != nil {
		return d, failure(ReasonService, "%v", err)
	}
	defer file.Close()
	d.path = file.Name()
	sum := sha256.New()
	var got atomic.Int64
	body := &stallReader{r: resp.Body, n: &got, progress: u.Bytes}
	stop := body.watch(u.stall(), cancel)
	n, err := io.Copy(io.MultiWriter(file, sum), io.LimitReader(body, u.maxBytes()+1))
	stalled := stop()
	switch {
	case stalled:
		return d, failure(ReasonService, "the download stalled: nothing came for %s (%d bytes received)", u.stall(), n)
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil:
		return d, failure(ReasonService, "the download took longer than %s (%d bytes received)", u.maxTime(), n)
	case err != nil:
		return d, failure(ReasonService, "the download was cut short after %d bytes (%v)", n, cutCause(err))
	case n > u.maxBytes():
		return d, failure(ReasonService, "the download is larger than %d bytes", u.maxBytes())
	case resp.ContentLength >= 0 && n != resp.ContentLength:
		return d, failure(ReasonService, "the download was cut short: %d of %d bytes", n, resp.ContentLength)
	}
	if err := file.Close(); err != nil {
		return d, failure(ReasonService, "%v", err)
	}
	if err := checkGzip(d.path); err != nil {
		return d, failure(ReasonService, "the download is damaged or cut short: %v", err)
	}
	d.size, d.sha256 = n, hex.EncodeToString(sum.Sum(nil))
	return d, nil
}

// fileNameOf names the downloaded file after the URL's last part, so that
// format detection sees its extension (.cvd, .gz, .zip); a name that is
// not a plain file name becomes "feed".
func fileNameOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "feed"
	}
	base := path.Base(strings.TrimRight(u.Path, "/"))
	if base == "." || base == "/" || base == "" || strings.ContainsAny(base, `/\`) || cleanName(base) != base || len(base) > 100 {
		return "feed"
	}
	return base
}

// checkGzip reads a gzip file to its end, so that a stream cut at a
// block boundary, which no length announced, fails before the import
// rather than during it.
func checkGzip(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	magic := make([]byte, 2)
	if n, _ := io.ReadFull(f, magic); n < 2 || !bytes.Equal(magic, gzipMagic) {
		return nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, gz)
	return err
}

// transportFailure explains a request that got no answer.
func transportFailure(err error) *UpdateError {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is on the feed's line already
	}
	return failure(ReasonOffline, "cannot reach the server: %v", err)
}

// cutCause keeps what a cut connection says, without the URL.
func cutCause(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the connection closed early"
	}
	return err.Error()
}

// stallReader counts what it reads, so that a watchdog can tell a slow
// download from one that stopped.
type stallReader struct {
	r        io.Reader
	n        *atomic.Int64
	progress *atomic.Int64 // optional, read by a progress display
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n.Add(int64(n))
	if s.progress != nil {
		s.progress.Add(int64(n))
	}
	return n, err
}

// watch cancels the download when nothing arrives for d; stop ends the
// watch and reports whether it fired.
func (s *stallReader) watch(d time.Duration, cancel func()) (stop func() bool) {
	var fired atomic.Bool
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		last := int64(-1)
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if n := s.n.Load(); n == last {
					fired.Store(true)
					cancel()
					return
				} else {
					last = n
				}
			}
		}
	}()
	return func() bool { close(done); return fired.Load() }
}

// retryAfterText turns a Retry-After header into words.
func retryAfterText(v string) string {
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return (time.Duration(min(s, 1<<31)) * time.Second).String()
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.UTC().Format(time.RFC1123)
	}
	return "an unreadable time" // not the header's own text: the server's words reach the terminal and --json
}
