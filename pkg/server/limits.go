package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/store"
	"golang.org/x/time/rate"
)

// Body limits per endpoint, each sized to a full batch (api.MaxBatch
// items) of the largest items a client sends, with room to spare, so that
// a body cannot be many times larger than any batch the API allows:
//
//   - a file lookup item with all four digests is about 270 bytes;
//   - a link lookup prefix is 11 bytes;
//   - a submission record is at most about 2.5 KiB (a link record with a
//     2,048-byte link), which DefaultMaxBodyBytes (Config.MaxBodyBytes)
//     covers.
//
// Config.MaxBodyBytes caps the two lookup limits too.
const (
	lookupFilesBodyBytes = 512 << 10
	lookupURLsBodyBytes  = 64 << 10
)

// Defaults for the zero fields of Config that bound decoding.
const (
	// DefaultMaxDecoding is how many bodies of each class (lookups,
	// submissions) are read and handled at once; more requests wait for
	// a turn within their request timeout. It bounds the memory of a
	// burst of requests to a few times the body limits.
	DefaultMaxDecoding = 8
	// DefaultBodyTimeout is how long a request may take to send its body
	// once its turn came, so that a client sending slowly cannot keep a
	// turn from others.
	DefaultBodyTimeout = 15 * time.Second
)

// bodyLimit is the body limit of an endpoint.
func (s *Server) bodyLimit(path string) int64 {
	switch path {
	case api.PathLookupFiles:
		return min(s.cfg.MaxBodyBytes, lookupFilesBodyBytes)
	case api.PathLookupURLs:
		return min(s.cfg.MaxBodyBytes, lookupURLsBodyBytes)
	}
	return s.cfg.MaxBodyBytes
}

// rateRefusal stops a decoding whose license cannot pay its next item.
type rateRefusal struct{ wait time.Duration }

// Error says what was refused.
func (e *rateRefusal) Error() string { return "the license's rate is exceeded" }

// meter charges one request's items to its license's token bucket while
// the body is decoded (see readBatch).
type meter struct {
	s       *Server
	lim     *rate.Limiter
	charged int
}

// full is what a full batch costs: api.MaxBatch items, or the whole
// bucket when that is smaller (a batch larger than the bucket costs the
// bucket, so that the largest batch the API allows is never refused for
// ever). The bucket is the request's: lookups' and submissions' have
// bursts of their own.
func (m *meter) full() int { return min(api.MaxBatch, m.lim.Burst()) }

// take charges n items when the bucket can pay them now. When it cannot,
// nothing is taken and the refusal says how long until the bucket could
// pay a full batch: the server cannot know, before reading a body, how
// many items it holds, and a client that waits less would have part of
// its next try charged and refused again.
func (m *meter) take(n int) error {
	now := m.s.now()
	res := m.lim.ReserveN(now, n)
	if !res.OK() || res.DelayFrom(now) > 0 {
		res.CancelAt(now)
		m.refund(now)
		need := float64(m.full()) - m.lim.TokensAt(now)
		return &rateRefusal{wait: time.Duration(need / float64(m.lim.Limit()) * float64(time.Second))}
	}
	m.charged += n
	return nil
}

// refund gives back what a refused request was charged for the items it
// had read: a refused request takes nothing. Kept, they starved a client
// sending faster than its rate: each refusal (the body read up to the
// item the bucket could not pay) took what the bucket had refilled since
// the last, so that at three times the rate nothing more was ever
// admitted once the burst was spent (TestLimiterPrecision). x/time/rate
// cannot cancel a reservation made at an earlier time; a negative one
// adds the tokens back (capped at the burst by the bucket's next use).
func (m *meter) refund(now time.Time) {
	if m.charged > 0 {
		m.lim.ReserveN(now, -m.charged)
		m.charged = 0
	}
}

// item charges the nth item of the body as it is decoded: the first was
// paid before the body was read, and nothing beyond a full batch is.
func (m *meter) item(n int) error {
	if n <= m.charged || m.charged >= m.full() {
		return nil
	}
	return m.take(1)
}

// bytesPerItem is what a body costs per item charged beyond its count:
// a batch is charged for the greater of its items and its size in units
// of this, at most a full batch. An ordinary item is far smaller (a file
// lookup about 70 bytes, a file record about 600), so only bloated items
// or padding pay more: a spam record of two thousand digests costs about
// 33, not 1, and a one-digest lookup padded to 512 KiB costs 128.
const bytesPerItem = 4096

// bytes charges a body of size bytes, read whole, what its items did not
// pay, into debt if the bucket cannot pay it now (as chargeFull does): the
// server has read and parsed it already, and a refusal that gave the
// charge back would let a license send such bodies without end for free.
func (m *meter) bytes(size int64) {
	want := min(int(size/bytesPerItem), m.full())
	if extra := min(want-m.charged, m.lim.Burst()); extra > 0 { // more than the burst would reserve nothing
		m.lim.ReserveN(m.s.now(), extra)
		m.charged += extra
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// chargeFull charges what is left of a full batch, even beyond what the
// bucket holds (it goes into debt): a body refused as too large made the
// server read a full batch's worth, and must not be a free way around
// the rate limit.
func (m *meter) chargeFull() {
	if rest := m.full() - m.charged; rest > 0 {
		m.lim.ReserveN(m.s.now(), rest)
		m.charged += rest
	}
}

// turns bounds how many bodies of one class are read at once.
type turns chan struct{}

// wait takes a turn, or fails when ctx ends first.
func (t turns) wait(ctx context.Context) error {
	select {
	case t <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t turns) done() { <-t }

// readBatch reads the body of a batch request of lic (see decodeBatch for
// list and fields) under every bound the server keeps against abuse, and
// answers the request itself when it fails (ok false):
//
//   - a body declared larger than the endpoint's limit is 413 unread;
//   - the first item is charged before a byte is read: a license whose
//     bucket is empty is 429 unread;
//   - bodies are read a few at a time per class (Config.MaxDecoding), at
//     most half of them for one license while they are being read, each
//     within Config.BodyTimeout once its turn came;
//   - every further item is charged as it is decoded, so a license that
//     cannot pay stops being read (429, and what it was charged goes back);
//   - a body over the limit or a list over api.MaxBatch stops being read
//     at the limit and is 413, charged as a full batch.
//
// done ends the request's turn (once, however often it is called): the
// caller defers it, so that the batch also holds its turn while it is
// looked up or stored, and a lookup calls it before it writes its answer,
// which a client that reads slowly could otherwise make it hold; a submission to a
// database that writes in groups gives it back once its batch is queued
// there (store.WhenQueued), the queue being bounded in its turn.
func readBatch[T any](s *Server, w http.ResponseWriter, r *http.Request, lic store.License, list string, fields map[string]any) (items []T, done func(), ok bool) {
	done, ok = s.readBody(w, r, lic, func(body io.Reader, item func(int) error) (n int, err error) {
		items, err = decodeBatch[T](body, list, fields, item)
		return len(items), err
	})
	return items, done, ok
}

// readBody is readBatch with the decoder given: decode reads body,
// calling item with the count after each item, and returns the count.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, lic store.License, decode func(body io.Reader, item func(int) error) (int, error)) (done func(), ok bool) {
	bg := s.budget(bucket{lic.ID, r.URL.Path == api.PathSubmissions})
	m := &meter{s: s, lim: bg.lim}
	limit := s.bodyLimit(r.URL.Path)
	if r.ContentLength > limit {
		m.chargeFull()
		writeProblem(w, r, problem{Status: http.StatusRequestEntityTooLarge, Type: api.ProblemTooLarge,
			Detail: fmt.Sprintf("the body is larger than %d bytes", limit)})
		return nil, false
	}
	if err := m.take(1); err != nil {
		s.refuse(w, r, err)
		return nil, false
	}
	t := s.lookupTurns
	if r.URL.Path == api.PathSubmissions {
		t = s.submitTurns
	}
	share := bg.share
	if err := share.wait(r.Context()); err != nil {
		m.refund(s.now())
		s.storeFailed(w, r, err)
		return nil, false
	}
	if err := t.wait(r.Context()); err != nil {
		share.done()
		m.refund(s.now())
		s.storeFailed(w, r, err)
		return nil, false
	}
	done = sync.OnceFunc(t.done)
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout)) // unsupported in tests
	body := &countingReader{r: http.MaxBytesReader(w, r.Body, limit)}
	n, err := decode(body, m.item)
	// The share bounds what one license's bodies hold while they are
	// read, which a client can make slow; once read, a batch holds the
	// class's turn alone while it is looked up or stored, which the
	// server does at its own pace. (Held to the end, the share capped one
	// license's lookups at half the turns even when every body came at
	// once, and left cores idle.)
	share.done()
	if err == nil {
		m.bytes(body.n)
	}
	if err != nil {
		done()
		s.badBody(w, r, m, err)
		return nil, false
	}
	info(r).items = n
	return done, true
}

// refuse answers a rate refusal: 429 with the wait.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var rr *rateRefusal
	errors.As(err, &rr)
	writeProblem(w, r, problem{Status: http.StatusTooManyRequests, Type: api.ProblemRateLimited,
		Detail: "the license's rate is exceeded; retry after the given wait", RetryAfter: retrySeconds(rr.wait)})
}

// badBody answers a body readBatch could not read.
func (s *Server) badBody(w http.ResponseWriter, r *http.Request, m *meter, err error) {
	var tooLarge *http.MaxBytesError
	var rr *rateRefusal
	switch {
	case errors.As(err, &rr):
		s.refuse(w, r, err)
	case errors.Is(err, errTooManyItems):
		m.chargeFull()
		writeProblem(w, r, problem{Status: http.StatusRequestEntityTooLarge, Type: api.ProblemTooLarge,
			Detail: fmt.Sprintf("a request may carry at most %d items", api.MaxBatch)})
	case errors.As(err, &tooLarge):
		m.chargeFull()
		writeProblem(w, r, problem{Status: http.StatusRequestEntityTooLarge, Type: api.ProblemTooLarge,
			Detail: fmt.Sprintf("the body is larger than %d bytes", tooLarge.Limit)})
	case errors.Is(err, os.ErrDeadlineExceeded):
		m.chargeFull() // a body sent slowly held a turn all along: not free
		writeProblem(w, r, problem{Status: http.StatusRequestTimeout, Type: api.ProblemBadRequest,
			Detail: fmt.Sprintf("the body was not sent within %v", s.cfg.BodyTimeout)})
	case r.Context().Err() != nil:
		s.storeFailed(w, r, r.Context().Err())
	default:
		writeProblem(w, r, problem{Status: http.StatusBadRequest, Type: api.ProblemBadRequest,
			Detail: "malformed JSON: " + truncate(err.Error())})
	}
}
