package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/untrusted"
)

// PublicOptions configure a public reputation service as a source. Only
// digests are sent to such a service (the SHA-256 of each file), never a
// name, a path or the contents, and never a link.
type PublicOptions struct {
	BaseURL   string       // the service, or a mirror or a test server; no trailing slash
	Key       string       // the user's key for it, if it takes one
	HTTP      *http.Client // with the proxy and a timeout; nil: a default one
	UserAgent string
	// Budget is how many requests the source may still send today (its
	// daily quota, when known, less what was sent); 0 is no limit. When
	// it is spent the source answers rate-limited without a request.
	Budget int
	// Workers is how many requests run at once, for services that take
	// one digest a request; 0 is 4.
	Workers int
	Now     func() time.Time
}

// The reasons a public source fails, each with its exit code.
const (
	ReasonOffline     = "offline"       // 4: no answer
	ReasonKeyRejected = "key-rejected"  // 5: the service refuses the key
	ReasonRateLimited = "rate-limited"  // 6: a quota or rate limit; Until says when to ask again
	ReasonService     = "service-error" // 7: an answer that is not one
)

// Error is a public source's failure for a whole batch.
type Error struct {
	Source string
	Reason string
	Status int       // HTTP status, 0 when none was received
	Until  time.Time // rate-limited: not before this
	Err    error
}

func (e *Error) Error() string {
	msg := e.Source + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if !e.Until.IsZero() {
		msg += "; not asking it before " + e.Until.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ExitCode is the exit code of the reason (DESIGN §1).
func (e *Error) ExitCode() exitcode.Code {
	switch e.Reason {
	case ReasonOffline:
		return exitcode.Offline
	case ReasonKeyRejected:
		return exitcode.LicenseBlocked
	case ReasonRateLimited:
		return exitcode.RateLimited
	}
	return exitcode.ServiceError
}

// Hint names what the user can do.
func (e *Error) Hint() string {
	switch e.Reason {
	case ReasonKeyRejected:
		return "give it a valid key: ksn source enable " + e.Source + " --key-file FILE"
	case ReasonRateLimited:
		return "wait, or disable it for now: ksn source disable " + e.Source
	case ReasonOffline:
		return "check the network connection and the proxy (ksn config get proxy)"
	}
	return "try again later; 'ksn source list' shows its state"
}

// public holds what the three services share: the HTTP exchange with its
// limits, the request count, and the first fatal answer of a batch.
type public struct {
	name     string
	o        PublicOptions
	requests atomic.Int64
	spent    atomic.Bool // the service said its quota is used up
}

// maxPublicBody bounds an answer: a lookup's answer is a few kilobytes;
// more is not an answer.
const maxPublicBody = 1 << 20

func newPublic(name string, o PublicOptions) *public {
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	return &public{name: name, o: o}
}

// Requests is how many requests the source sent.
func (p *public) Requests() int64 { return p.requests.Load() }

// QuotaSpent reports whether the service said its daily quota is used
// up, though it still answered.
func (p *public) QuotaSpent() bool { return p.spent.Load() }

// Trust implements reputation.Source: a public service is a network
// source, which may raise or fill a verdict and never lowers one.
func (p *public) Trust() reputation.Trust { return reputation.TrustNetwork }

// LookupLinks implements reputation.Source: links are not sent to third
// parties, so no link has an answer.
func (p *public) LookupLinks(_ context.Context, links []reputation.LinkQuery) ([]reputation.Answer, error) {
	return make([]reputation.Answer, len(links)), nil
}

func (p *public) fail(reason string, status int, err error) *Error {
	return &Error{Source: p.name, Reason: reason, Status: status, Err: err}
}

// take counts a request against the budget; false when it is spent.
func (p *public) take() bool {
	n := p.requests.Add(1)
	if p.o.Budget > 0 && n > int64(p.o.Budget) {
		p.requests.Add(-1)
		return false
	}
	return true
}

// budgetSpent is the error of a request the known quota does not allow.
func (p *public) budgetSpent() *Error {
	e := p.fail(ReasonRateLimited, 0, errors.New("its daily quota is used up (the requests you allowed it today were sent)"))
	e.Until = NextUTCDay(p.o.Now())
	return e
}

// exchange sends one request, counted against the budget, and returns
// the status and the body of the answer (at most maxPublicBody bytes;
// more is a service error).
func (p *public) exchange(ctx context.Context, method, path string, body []byte, header http.Header) (int, http.Header, []byte, error) {
	if !p.take() {
		return 0, nil, nil, p.budgetSpent()
	}
	return p.send(ctx, method, path, body, header)
}

// send is exchange for a request already counted (eachFile counts before
// it hands a file to a worker).
func (p *public) send(ctx context.Context, method, path string, body []byte, header http.Header) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.o.BaseURL+path, rd)
	if err != nil {
		return 0, nil, nil, p.fail(ReasonService, 0, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", p.o.UserAgent)
	req.Header.Set("Accept", "application/json")
	resp, err := p.o.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, nil, ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds the digest; the message need not
		}
		return 0, nil, nil, p.fail(ReasonOffline, 0, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPublicBody+1))
	if err != nil {
		return resp.StatusCode, nil, nil, p.fail(ReasonService, resp.StatusCode, fmt.Errorf("the answer was cut short: %v", err))
	}
	if len(b) > maxPublicBody {
		return resp.StatusCode, nil, nil, p.fail(ReasonService, resp.StatusCode, fmt.Errorf("an answer larger than %d bytes", maxPublicBody))
	}
	return resp.StatusCode, resp.Header, b, nil
}

// limited is the error of a 429 (or a quota's 403): the wait the service
// asked for, else fallback from now.
func (p *public) limited(status int, h http.Header, what string, fallback time.Time) *Error {
	e := p.fail(ReasonRateLimited, status, fmt.Errorf("%s (HTTP %d)", what, status))
	e.Until = fallback
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && s > 0 {
		e.Until = p.o.Now().Add(min(time.Duration(s)*time.Second, 24*time.Hour))
	}
	return e
}

// unexpected is the error of an answer the service's API does not have.
func (p *public) unexpected(status int, body []byte) *Error {
	return p.fail(ReasonService, status, fmt.Errorf("unexpected answer (HTTP %d): %s", status, untrusted.Text(strings.Join(strings.Fields(string(body)), " "), 120)))
}

// eachFile asks about every file with a SHA-256, Workers at a time, with
// ask (which sends with send: the request is counted here, before a
// worker gets it, so that a spent budget stops the handing out and not
// the requests under way); the first fatal error stops the rest and is
// returned (answers so far are dropped with it: the run marks the source
// failed).
func (p *public) eachFile(ctx context.Context, files []reputation.FileQuery, ask func(ctx context.Context, sha256hex string) (reputation.Answer, error)) ([]reputation.Answer, error) {
	out := make([]reputation.Answer, len(files))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	work := make(chan int)
	for range p.o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				a, err := ask(ctx, files[i].Digests.Hex(checksum.SHA256))
				mu.Lock()
				if err != nil && first == nil {
					first = err
					cancel()
				}
				out[i] = a
				mu.Unlock()
			}
		}()
	}
	for i, f := range files {
		if f.Digests[checksum.SHA256] == nil {
			continue // a file hashed without SHA-256 cannot be asked about
		}
		if !p.take() {
			mu.Lock()
			if first == nil {
				first = p.budgetSpent()
			}
			mu.Unlock()
			break
		}
		select {
		case work <- i:
		case <-ctx.Done():
			p.requests.Add(-1) // counted, never sent
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// answer is a public source's answer with its name among the sources when
// it says something.
func answer(name string, r reputation.Result) reputation.Answer {
	if r.Verdict == "" {
		r.Verdict = reputation.Unknown
	}
	if r.Verdict != reputation.Unknown {
		r.Sources = []string{name}
	}
	return reputation.Answer{Source: name, Trust: reputation.TrustNetwork, Result: r}
}

// NextUTCDay is the start of the UTC day after t: when a daily quota
// starts again.
func NextUTCDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}
