package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/untrusted"
)

// DefaultTimeout bounds a request when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Limits on what the client reads from the server.
const (
	MaxResponseBytes = 16 << 20 // a successful answer larger than this is a protocol violation
	maxProblemBytes  = 64 << 10 // an error body is read up to this, the rest ignored
)

// Options configure a Client.
type Options struct {
	Endpoint   string         // base URL, http or https, optionally with a path prefix
	LicenseKey string         // sent as "Authorization: Bearer <key>"; empty sends no header (the server answers 401)
	Timeout    time.Duration  // each HTTP request, including reading its body; 0 means DefaultTimeout
	Proxy      string         // proxy URL (http, https, socks5); empty means http.ProxyFromEnvironment
	UserAgent  string         // "ksn/<version>"
	RootCAs    *x509.CertPool // nil means the system roots
}

// Client talks to one endpoint. It is safe for concurrent use.
type Client struct {
	endpoint string // validated base URL, no trailing slash, no userinfo
	key      string
	agent    string
	timeout  time.Duration
	http     *http.Client
	now      func() time.Time           // for Retry-After dates; replaced by tests
	batch    atomic.Int64               // items per request; 0 means api.MaxBatch
	limits   atomic.Pointer[api.Limits] // as the last Status gave them
}

// New validates opts and returns a Client. It never connects. An empty
// endpoint returns NoEndpoint(); a malformed endpoint, proxy or license
// key returns a plain error (a configuration mistake, not a network one)
// that never repeats the key.
func New(opts Options) (*Client, error) {
	if strings.TrimSpace(opts.Endpoint) == "" {
		return nil, NoEndpoint()
	}
	endpoint, err := parseEndpoint(opts.Endpoint)
	if err != nil {
		return nil, err
	}
	for _, r := range opts.LicenseKey {
		if r <= ' ' || r >= 0x7f {
			return nil, errors.New("invalid license key: it may hold only printable ASCII characters without spaces")
		}
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("invalid timeout %s: it must be positive", opts.Timeout)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	t, err := NewTransport(opts.Proxy, opts.RootCAs)
	if err != nil {
		return nil, err
	}
	return &Client{
		endpoint: endpoint,
		key:      opts.LicenseKey,
		agent:    opts.UserAgent,
		timeout:  timeout,
		http: &http.Client{
			Transport: t,
			// A redirect is answered as the 3xx it is (a service
			// error): following it could carry the key elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now: time.Now,
	}, nil
}

// NewTransport is the transport every ksn request to another machine
// uses: the proxy setting (empty: HTTPS_PROXY and HTTP_PROXY), TLS 1.2 at
// least with roots (nil: the system's), and bounded response headers.
// Feed downloads and public reputation services use it too, so that the
// proxy setting is honoured everywhere.
func NewTransport(proxyURL string, roots *x509.CertPool) (*http.Transport, error) {
	proxy := http.ProxyFromEnvironment
	if proxyURL != "" {
		u, err := parseProxy(proxyURL)
		if err != nil {
			return nil, err
		}
		proxy = http.ProxyURL(u)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = proxy
	t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	t.MaxResponseHeaderBytes = 64 << 10
	return t, nil
}

// Endpoint is the validated base URL the client talks to.
func (c *Client) Endpoint() string { return c.endpoint }

// CloseIdleConnections closes the connections kept for reuse.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

func parseEndpoint(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("invalid endpoint %s: %v", quote(s), errors.Unwrap(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("invalid endpoint %s: it must start with https:// or http://", quote(s))
	case u.User != nil:
		return "", fmt.Errorf("invalid endpoint: it must not hold a user name or password (the license key authenticates)")
	case u.Host == "" || u.Opaque != "":
		return "", fmt.Errorf("invalid endpoint %s: it has no host", quote(s))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("invalid endpoint %s: it must not have a query or fragment", quote(s))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// quote quotes an endpoint for an error message, unless it may hold a
// password.
func quote(s string) string {
	if strings.Contains(s, "@") {
		return "(not shown: it holds an @)"
	}
	return strconv.Quote(s)
}

func parseProxy(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("invalid proxy URL")
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, errors.New("invalid proxy URL: it must start with http://, https:// or socks5://")
	}
	if u.Host == "" {
		return nil, errors.New("invalid proxy URL: it has no host")
	}
	return u, nil
}

// Status fetches GET /v1/status. A Limits.MaxBatch below api.MaxBatch
// becomes the batch size of later LookupFiles and Submit calls, so that
// a server with a smaller limit is not sent batches it must refuse.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	var s api.Status
	err := c.do(ctx, http.MethodGet, api.PathStatus, nil, &s, func() error {
		if ref := s.Statement; ref != (api.StatementRef{}) {
			if err := checkStatementRef(ref.ID, ref.SHA256); err != nil {
				return err
			}
		}
		// Printed by ksn status: never raw.
		s.License.State = untrusted.Text(s.License.State, untrusted.NameLen)
		s.License.Label = untrusted.Text(s.License.Label, untrusted.NameLen)
		return nil
	}, http.StatusOK)
	if err == nil && s.Limits.MaxBatch > 0 && s.Limits.MaxBatch < api.MaxBatch {
		c.batch.Store(int64(s.Limits.MaxBatch))
	}
	if err == nil {
		lim := s.Limits
		c.limits.Store(&lim)
	}
	return s, err
}

// Limits returns the limits the last successful Status announced; ok is
// false before one.
func (c *Client) Limits() (lim api.Limits, ok bool) {
	if l := c.limits.Load(); l != nil {
		return *l, true
	}
	return api.Limits{}, false
}

// batchSize is the number of items per request.
func (c *Client) batchSize() int {
	if n := c.batch.Load(); n > 0 {
		return int(n)
	}
	return api.MaxBatch
}

// checkStatementRef refuses a statement id that is not a plain identifier
// (it is printed, and stored in the append-only decisions table) and a
// digest that is not lower-case hex SHA-256.
func checkStatementRef(id, sha string) error {
	if !untrusted.ValidID(id) {
		return fmt.Errorf("the statement id %s is not 1 to 64 letters, digits and . _ : + -", untrusted.Text(strconv.Quote(id), untrusted.NameLen))
	}
	if b, err := hex.DecodeString(sha); err != nil || len(b) != sha256.Size || strings.ToLower(sha) != sha {
		return errors.New("the statement's sha256 is not 64 lower-case hex characters")
	}
	return nil
}

// Statement fetches GET /v1/statement. The answer's sha256 must be the
// lower-case hex SHA-256 of its text's bytes (consent is recorded against
// that digest, DESIGN §3), and its id a plain identifier
// (untrusted.ValidID); otherwise it is a protocol violation.
func (c *Client) Statement(ctx context.Context) (api.Statement, error) {
	var s api.Statement
	err := c.do(ctx, http.MethodGet, api.PathStatement, nil, &s, func() error {
		if s.ID == "" {
			return errors.New("the statement has no id")
		}
		if !untrusted.ValidID(s.ID) {
			return checkStatementRef(s.ID, s.SHA256)
		}
		sum := sha256.Sum256([]byte(s.Text))
		if s.SHA256 != hex.EncodeToString(sum[:]) {
			return errors.New("the statement's sha256 is not the lower-case hex SHA-256 of its text")
		}
		return nil
	}, http.StatusOK)
	return s, err
}

// LookupFiles looks items up with POST /v1/lookup/files, api.MaxBatch (or
// the smaller limit Status learned) per request, one request after another. It returns one result per item, in
// the order of items; a server that answers a batch with another number
// of results, or a result without a verdict, breaks the protocol. On an
// error it returns the results of the batches that succeeded (a prefix of
// the full answer: result i is still for item i) with the error.
// Options.Timeout bounds each request, not the whole call; the caller's
// ctx bounds the whole call.
func (c *Client) LookupFiles(ctx context.Context, items []api.FileQuery) ([]api.FileResult, error) {
	out := make([]api.FileResult, 0, len(items))
	size := c.batchSize()
	for start := 0; start < len(items); start += size {
		batch := items[start:min(start+size, len(items))]
		var resp api.FileLookupResponse
		err := c.do(ctx, http.MethodPost, api.PathLookupFiles, api.FileLookupRequest{Items: batch}, &resp, func() error {
			if len(resp.Results) != len(batch) {
				return fmt.Errorf("%d results for %d items", len(resp.Results), len(batch))
			}
			for i, r := range resp.Results {
				if r.Verdict == "" {
					return fmt.Errorf("result %d has no verdict", i)
				}
			}
			return nil
		}, http.StatusOK)
		if err != nil {
			return out, err
		}
		out = append(out, resp.Results...)
	}
	return out, nil
}

// Submit sends recs with POST /v1/submissions, api.MaxBatch (or the
// smaller limit Status learned) per request, and sums the answers. On an error it returns the sums of the batches
// that were accepted with the error; as the server ignores ids it has
// seen, resending every record is safe. participant is the installation's
// code for the half-year (api.SubmissionBatch.Participant).
func (c *Client) Submit(ctx context.Context, participant string, recs []api.Record) (api.SubmissionResult, error) {
	var total api.SubmissionResult
	size := c.batchSize()
	for start := 0; start < len(recs); start += size {
		batch := recs[start:min(start+size, len(recs))]
		var res api.SubmissionResult
		err := c.do(ctx, http.MethodPost, api.PathSubmissions, api.SubmissionBatch{Participant: participant, Records: batch}, &res, func() error {
			if res.Accepted < 0 || res.Duplicates < 0 || res.Accepted+res.Duplicates != len(batch) {
				return fmt.Errorf("%d accepted and %d duplicates for %d records", res.Accepted, res.Duplicates, len(batch))
			}
			return nil
		}, http.StatusAccepted, http.StatusOK)
		if err != nil {
			return total, err
		}
		total.Accepted += res.Accepted
		total.Duplicates += res.Duplicates
	}
	return total, nil
}

// do sends one request and decodes a JSON answer into out, then runs
// validate (if not nil). Any status other than ok is classified.
func (c *Client) do(ctx context.Context, method, path string, in, out any, validate func() error, ok ...int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err) // a bug of the caller's data, not the network
		}
		body = bytes.NewReader(b)
	}
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, c.endpoint+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, "+api.ProblemContentType)
	if c.agent != "" {
		req.Header.Set("User-Agent", c.agent)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return c.classifyTransport(ctx, err)
	}
	defer resp.Body.Close()

	if !contains(ok, resp.StatusCode) {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxProblemBytes))
		if err := ctx.Err(); err != nil {
			return err
		}
		if e := c.plainToTLS(resp.StatusCode, data); e != nil {
			return e
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return c.protocolError(resp.StatusCode, "unexpected status %d for %s %s", resp.StatusCode, method, path)
		}
		return c.classifyStatus(resp.StatusCode, retryHeader(resp.Header.Get("Retry-After")), parseProblem(resp.Header, data))
	}

	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return c.classifyTransport(ctx, err)
	}
	if len(data) > MaxResponseBytes {
		return c.protocolError(resp.StatusCode, "the answer to %s %s exceeds %d bytes", method, path, MaxResponseBytes)
	}
	if err := decodeObject(data, out); err != nil {
		return c.protocolError(resp.StatusCode, "the answer to %s %s (%s) is not the expected JSON: %v",
			method, path, orElse(resp.Header.Get("Content-Type"), "no content type"), err)
	}
	if validate != nil {
		if err := validate(); err != nil {
			return c.protocolError(resp.StatusCode, "the answer to %s %s is invalid: %v", method, path, err)
		}
	}
	return nil
}

// plainToTLS recognises Go's answer to plain HTTP sent to a TLS port: the
// endpoint says http:// where the server wants https://.
func (c *Client) plainToTLS(status int, body []byte) *Error {
	if status != http.StatusBadRequest || !strings.HasPrefix(c.endpoint, "http://") ||
		!bytes.Contains(body, []byte("HTTP request to an HTTPS server")) {
		return nil
	}
	return &Error{
		Reason: ReasonOffline, Detail: DetailTLS, Status: status, Endpoint: c.endpoint, Timeout: c.timeout,
		Err: errors.New("the server expects https:// but the endpoint says http://"), mismatch: schemeTLSServer,
	}
}

func contains(codes []int, code int) bool {
	for _, c := range codes {
		if c == code {
			return true
		}
	}
	return false
}

// decodeObject decodes exactly one JSON object (not null, not an array,
// nothing after it) into out.
func decodeObject(data []byte, out any) error {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(out); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

// parseProblem reads an RFC 9457 problem from a JSON error body; nil if
// the body is not one (a proxy's HTML page, for example).
func parseProblem(h http.Header, data []byte) *api.Problem {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mt != api.ProblemContentType && mt != "application/json" {
		return nil
	}
	var p api.Problem
	if decodeObject(data, &p) != nil {
		return nil
	}
	return &p
}
