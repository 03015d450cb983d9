package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

// manyItems is a file lookup body of n items.
func manyItems(n int) string {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"digests":{"sha256":"%064x"}}`, i)
	}
	b.WriteString(`]}`)
	return b.String()
}

// TestOversizedConsumesBudget: bodies refused as too large (declared,
// read past the endpoint's limit, or over the item cap) cost the license
// a full batch, so that they are no free way around the rate limit; a
// license with an empty bucket is refused before its body is read.
func TestOversizedConsumesBudget(t *testing.T) {
	for name, send := range map[string]func(fx *fixture) *httptest.ResponseRecorder{
		"too many items": func(fx *fixture) *httptest.ResponseRecorder {
			return fx.do("POST", api.PathLookupFiles, fx.key, manyItems(api.MaxBatch+1))
		},
		"body over the lookup limit": func(fx *fixture) *httptest.ResponseRecorder {
			return fx.do("POST", api.PathLookupFiles, fx.key, `{"items":[`+strings.Repeat(" ", lookupFilesBodyBytes)+`]}`)
		},
		"declared too large": func(fx *fixture) *httptest.ResponseRecorder {
			req := httptest.NewRequest("POST", api.PathLookupFiles, strings.NewReader(`{"items":[]}`))
			req.ContentLength = 4 << 20
			req.Header.Set("Authorization", "Bearer "+fx.key)
			w := httptest.NewRecorder()
			fx.srv.ServeHTTP(w, req)
			return w
		},
		"link prefixes over their limit": func(fx *fixture) *httptest.ResponseRecorder {
			return fx.do("POST", api.PathLookupURLs, fx.key, `{"prefixes":["`+strings.Repeat("a", lookupURLsBodyBytes)+`"]}`)
		},
	} {
		t.Run(name, func(t *testing.T) {
			fx := newFixture(t, func(c *Config) { c.Rate = 1; c.Burst = 2 * api.MaxBatch })
			problemOf(t, send(fx), 413, api.ProblemTooLarge)
			problemOf(t, send(fx), 413, api.ProblemTooLarge)
			// Two full batches spent the bucket: the next request is
			// refused before its body is read.
			w := fx.do("POST", api.PathLookupFiles, fx.key, lookup(map[string]string{"sha256": eicarSHA256}))
			p := problemOf(t, w, 429, api.ProblemRateLimited)
			if p.RetryAfter < api.MaxBatch {
				t.Errorf("retry after %d s; want the time a full batch takes at 1/s", p.RetryAfter)
			}
		})
	}
}

// TestChargedWhileDecoding: items are charged as they are decoded; a
// license whose bucket runs dry mid-body is refused there, and what the
// refused request was charged goes back (a refused request takes nothing,
// or a client sending faster than its rate would be refused for ever:
// TestLimiterPrecision).
func TestChargedWhileDecoding(t *testing.T) {
	fx := newFixture(t, func(c *Config) { c.Rate = 1; c.Burst = 100 })
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, manyItems(60)), 200)
	problemOf(t, fx.do("POST", api.PathLookupFiles, fx.key, manyItems(60)), 429, api.ProblemRateLimited)
	// The 40 items left are still there...
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, manyItems(40)), 200)
	// ...and now nothing is.
	problemOf(t, fx.do("POST", api.PathLookupFiles, fx.key, manyItems(1)), 429, api.ProblemRateLimited)
	fx.clock.Add(time.Second)
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, manyItems(1)), 200)
}

// blockingBody is a request body that sends its first part and then
// waits until released, as a slow client does.
type blockingBody struct {
	head    io.Reader
	release chan struct{}
	started chan struct{}
	once    sync.Once
}

func (b *blockingBody) Read(p []byte) (int, error) {
	if n, err := b.head.Read(p); n > 0 || err != io.EOF {
		return n, err
	}
	b.once.Do(func() { close(b.started) })
	<-b.release
	return 0, io.EOF
}

// slowLookup starts a lookup by key whose body stops after its head until
// released, and returns once its turn came; its status goes to code.
func (fx *fixture) slowLookup(key string, code chan<- int) *blockingBody {
	slow := &blockingBody{head: strings.NewReader(`{"items":[`), release: make(chan struct{}), started: make(chan struct{})}
	req := httptest.NewRequest("POST", api.PathLookupFiles, slow)
	req.Header.Set("Authorization", "Bearer "+key)
	go func() {
		w := httptest.NewRecorder()
		fx.srv.ServeHTTP(w, req)
		code <- w.Code
	}()
	<-slow.started
	return slow
}

// lookupWithin sends a one-item lookup by key that gives up after d.
func (fx *fixture) lookupWithin(d time.Duration, key string) *httptest.ResponseRecorder {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, "POST", api.PathLookupFiles, strings.NewReader(manyItems(1)))
	req.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	fx.srv.ServeHTTP(w, req)
	return w
}

// TestDecodingTurns: no more bodies of a class are read at once than
// Config.MaxDecoding; another request waits for a turn (and gives up with
// its deadline), while the other class and /healthz go on.
func TestDecodingTurns(t *testing.T) {
	fx := newFixture(t, func(c *Config) { c.MaxDecoding = 1 })
	first := make(chan int, 1)
	slow := fx.slowLookup(fx.key, first)

	other, _, err := fx.db.CreateLicense(context.Background(), "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := fx.lookupWithin(200*time.Millisecond, other); w.Code != http.StatusServiceUnavailable {
		t.Errorf("a second lookup while the one turn is taken: %d, want 503 once its time is up", w.Code)
	}
	if w := fx.do("GET", api.PathHealth, "", nil); w.Code != 200 {
		t.Errorf("healthz: %d", w.Code)
	}
	decodeJSON[api.SubmissionResult](t, fx.do("POST", api.PathSubmissions, fx.key, batchOf(rec(strings.Repeat("a", 32)))), 202)

	close(slow.release)
	if code := <-first; code != 400 {
		t.Errorf("the slow body, cut short: %d", code)
	}
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, manyItems(1)), 200)
}

// TestLicenseTurnShare: one license holding its share of the turns (half
// of them) with bodies sent slowly waits for its own share, while another
// license is still read at once.
func TestLicenseTurnShare(t *testing.T) {
	fx := newFixture(t, nil) // 8 turns a class: a share of 4
	one, _, err := fx.db.CreateLicense(context.Background(), "one", nil)
	if err != nil {
		t.Fatal(err)
	}
	var slows []*blockingBody
	codes := make(chan int, 4)
	for range 4 {
		slows = append(slows, fx.slowLookup(one, codes))
	}
	w := fx.lookupWithin(200*time.Millisecond, one)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("a fifth body of the same license: %d, want 503 once it gave up waiting for its share", w.Code)
	}
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, manyItems(1)), 200)
	for _, s := range slows {
		close(s.release)
		<-codes
	}
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, one, manyItems(1)), 200)
}

// TestChargedBySize: a batch pays for the greater of its items and its
// size in 4 KiB units, so padding (or a bloated record) is not a way to
// make the server read, parse or store much for one item's price, nor,
// refused, for nothing.
func TestChargedBySize(t *testing.T) {
	fx := newFixture(t, func(c *Config) { c.Rate = 1; c.Burst = 150 })
	padded := `{"pad":"` + strings.Repeat("x", 400<<10) + `",` + strings.TrimPrefix(manyItems(1), "{")
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, padded), 200) // 100 of 150
	// Read whole, a body pays even what the bucket lacks: it goes into
	// debt (-50), and nothing more is read until the debt is paid.
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, padded), 200)
	for _, body := range []string{padded, manyItems(1)} {
		if w := fx.do("POST", api.PathLookupFiles, fx.key, body); w.Code != http.StatusTooManyRequests {
			t.Errorf("a lookup with the license in debt: %d, want 429", w.Code)
		}
	}
	fx.clock.Add(50 * time.Second) // rate 1: the debt paid, nothing left
	if w := fx.do("POST", api.PathLookupFiles, fx.key, manyItems(1)); w.Code != http.StatusTooManyRequests {
		t.Errorf("a lookup with nothing left: %d, want 429", w.Code)
	}
	fx.clock.Add(2 * time.Second)
	decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, manyItems(1)), 200)
}
