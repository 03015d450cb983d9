package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/untrusted"
)

// Reason is the class of a failure: it decides the exit code (DESIGN §1).
type Reason string

// The reasons, one per exit code from 4 to 7.
const (
	ReasonOffline        Reason = "offline"         // exit 4
	ReasonLicenseBlocked Reason = "license-blocked" // exit 5
	ReasonRateLimited    Reason = "rate-limited"    // exit 6
	ReasonServiceError   Reason = "service-error"   // exit 7
)

// Details, the finer class within a Reason. Service errors for an
// unexpected HTTP status use "http-<code>" instead of a constant.
const (
	DetailNoEndpoint   = "no-endpoint"   // offline: nothing configured
	DetailDNS          = "dns"           // offline: the host name does not resolve
	DetailRefused      = "refused"       // offline: nothing listens at the address
	DetailTimeout      = "timeout"       // offline: no complete answer within Options.Timeout
	DetailTLS          = "tls"           // offline: the TLS handshake or certificate failed
	DetailNetwork      = "network"       // offline: any other failure to reach the server
	DetailNotActivated = "not-activated" // license: 401, no key or an unknown key
	DetailExpired      = "expired"       // license: 403 license-expired
	DetailDenylisted   = "denylisted"    // license: 403 license-denylisted
	DetailRateLimited  = "rate-limited"  // rate: 429, the license's quota
	DetailRestricted   = "restricted"    // rate: 503 restricted, switched off service-wide
	DetailProtocol     = "protocol"      // service: an answer that breaks the API, or a connection cut mid-answer
	DetailBadRequest   = "bad-request"   // service: 400
	DetailTooLarge     = "too-large"     // service: 413
)

// Retry-After bounds: a 429 or 503 without a usable Retry-After waits
// DefaultRetryAfter; an absurd one is capped at MaxRetryAfter.
const (
	DefaultRetryAfter = 60 * time.Second
	MaxRetryAfter     = time.Hour
	minRetryAfter     = time.Second
)

// maxMessage bounds Error.Message, in runes.
const maxMessage = 200

// Error is every failure of a Client other than the caller's own context
// being cancelled or expiring (those are returned as ctx.Err(), unwrapped).
// Reason decides the exit code; Detail, the message and the hint.
type Error struct {
	Reason     Reason
	Detail     string        // see the Detail constants; "http-<code>" for an unexpected status
	RetryAfter time.Duration // rate-limited only: how long the server asks to wait
	Status     int           // HTTP status, 0 when none was received
	Message    string        // the server's problem detail (or title), sanitised: no control characters, at most 200 runes
	Err        error         // the underlying error, if any

	// Endpoint (the base URL) and Timeout (the request timeout) are
	// filled by the Client so that Error and Hint can name them; both may
	// be zero in an Error built by hand.
	Endpoint string
	Timeout  time.Duration

	addr     string   // the peer that failed (refused, or the name that did not resolve), when known
	proxy    bool     // the failure was in reaching the proxy
	key      keyState // not-activated: whether a license key was sent
	mismatch mismatch // tls: the endpoint's scheme does not match the server
}

// keyState tells whether a request carried a license key.
type keyState int

const (
	keyUnknown keyState = iota
	keyNone
	keySent
)

// mismatch tells a TLS failure that is a wrong scheme from a bad certificate.
type mismatch int

const (
	schemeOK          mismatch = iota
	schemePlainServer          // https:// asked, the server speaks plain HTTP
	schemeTLSServer            // http:// asked, the server wants TLS
)

// NoEndpoint is the error for a caller that has no endpoint configured.
func NoEndpoint() *Error {
	return &Error{Reason: ReasonOffline, Detail: DetailNoEndpoint}
}

// Error reads as a sentence after "ksn: ", e.g.
// "offline: connection refused by 127.0.0.1:7415".
func (e *Error) Error() string {
	var b strings.Builder
	switch e.Reason {
	case ReasonOffline:
		b.WriteString("offline: ")
	case ReasonLicenseBlocked:
		b.WriteString("license blocked: ")
	case ReasonRateLimited:
		b.WriteString("rate-limited: ")
	case ReasonServiceError:
		b.WriteString("service error: ")
	default:
		b.WriteString(string(e.Reason) + ": ")
	}
	b.WriteString(e.describe())
	if e.Message != "" && e.Reason != ReasonOffline {
		b.WriteString(" (server says: " + e.Message + ")")
	}
	return b.String()
}

func (e *Error) describe() string {
	host := e.host()
	switch e.Detail {
	case DetailNoEndpoint:
		return "no endpoint is configured"
	case DetailDNS:
		what := "the host name "
		if e.proxy {
			what = "the proxy's host name "
		}
		return "cannot resolve " + what + orElse(e.addr, orElse(e.hostname(), "of the endpoint")) + cause(e.Err)
	case DetailRefused:
		if e.proxy {
			return "connection refused by the proxy at " + orElse(e.addr, "the configured address")
		}
		return "connection refused by " + orElse(e.addr, orElse(host, "the endpoint"))
	case DetailTimeout:
		if e.Timeout > 0 {
			return fmt.Sprintf("no answer from %s within %s", orElse(host, "the endpoint"), formatDuration(e.Timeout))
		}
		return "no answer from " + orElse(host, "the endpoint") + " in time"
	case DetailTLS:
		switch e.mismatch {
		case schemePlainServer:
			return "the server at " + orElse(host, "the endpoint") + " does not speak TLS, but the endpoint says https://"
		case schemeTLSServer:
			return "the server at " + orElse(host, "the endpoint") + " speaks only TLS, but the endpoint says http://"
		}
		return "TLS with " + orElse(host, "the endpoint") + " failed" + cause(e.Err)
	case DetailNetwork:
		return "cannot reach " + orElse(host, "the endpoint") + cause(e.Err)
	case DetailNotActivated:
		switch e.key {
		case keyNone:
			return "no license key is set, and the server requires one"
		case keySent:
			return "the server does not know the license key"
		}
		return "the server does not accept the license key (none is set, or the server does not know it)"
	case DetailExpired:
		return "the license key has expired"
	case DetailDenylisted:
		return "the license key has been revoked by the server's operator"
	case DetailRateLimited:
		return "the server asks to wait " + formatDuration(e.RetryAfter)
	case DetailRestricted:
		return "file reputation is restricted by the server's operator; the server asks to wait " + formatDuration(e.RetryAfter)
	case DetailProtocol:
		if isCut(e.Err) {
			return "the server closed the connection before its answer was complete" + cause(e.Err)
		}
		return "the server broke the protocol" + cause(e.Err)
	case DetailBadRequest:
		return "the server rejected the request as malformed (HTTP 400)"
	case DetailTooLarge:
		return "the server rejected the request as too large (HTTP 413)"
	}
	if e.Status != 0 {
		return fmt.Sprintf("the server answered HTTP %d", e.Status)
	}
	return orElse(e.Detail, "unknown failure") + cause(e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ExitCode is the exit code of the Reason (DESIGN §1).
func (e *Error) ExitCode() exitcode.Code {
	switch e.Reason {
	case ReasonOffline:
		return exitcode.Offline
	case ReasonLicenseBlocked:
		return exitcode.LicenseBlocked
	case ReasonRateLimited:
		return exitcode.RateLimited
	default:
		return exitcode.ServiceError
	}
}

// ExitError converts e into the error that carries exit code and hint to main.
func (e *Error) ExitError() *exitcode.Error {
	return &exitcode.Error{Code: e.ExitCode(), Err: e, Hint: e.Hint()}
}

// Hint is the one line that tells the user what to do, naming the
// command that fixes the problem where there is one.
func (e *Error) Hint() string {
	endpoint := orElse(e.Endpoint, "the configured endpoint")
	switch e.Detail {
	case DetailNoEndpoint:
		return "ksn config set endpoint https://<server>"
	case DetailDNS:
		if e.proxy {
			return "check the proxy's host name (ksn config get proxy, and HTTPS_PROXY/HTTP_PROXY)"
		}
		return "check the endpoint's host name (ksn config get endpoint)"
	case DetailRefused:
		if e.proxy {
			return "is the proxy running? check it with ksn config get proxy (and HTTPS_PROXY/HTTP_PROXY)"
		}
		return "is ksn serve running at " + endpoint + "?"
	case DetailTimeout:
		t := "the timeout"
		if e.Timeout > 0 {
			t = formatDuration(e.Timeout)
		}
		return "the server did not answer within " + t + ": check it, or raise it with ksn config set timeout 30s"
	case DetailTLS:
		switch e.mismatch {
		case schemePlainServer:
			return "give ksn serve a certificate, or on a trusted network only: ksn config set endpoint " +
				withScheme(e.Endpoint, "http")
		case schemeTLSServer:
			return "ksn config set endpoint " + withScheme(e.Endpoint, "https")
		}
		return "check the endpoint's certificate (host name, issuer, expiry)"
	case DetailNetwork:
		return "check the network connection (and proxy) to " + endpoint
	case DetailNotActivated:
		return "ksn license activate <key>"
	case DetailExpired, DetailDenylisted:
		return "ask the server's operator for a new license key, then: ksn license activate <key>"
	case DetailRateLimited:
		return "wait " + formatDuration(e.RetryAfter) + ", then try again"
	case DetailRestricted:
		return "file reputation is restricted by the operator; try again in " + formatDuration(e.RetryAfter)
	case DetailProtocol:
		if isCut(e.Err) {
			return "the server failed; try again later or tell its operator"
		}
		return "check that " + endpoint + " is a ksn server; if it is, try again later or tell its operator"
	case DetailBadRequest, DetailTooLarge:
		return "this ksn and the server may disagree on the API; update ksn, or tell the server's operator"
	}
	if e.Status >= 300 && e.Status < 500 {
		return "check that " + endpoint + " is a ksn server (ksn config get endpoint)"
	}
	return "the server failed; try again later or tell its operator"
}

func (e *Error) host() string {
	if e.Endpoint == "" {
		return ""
	}
	u, err := url.Parse(e.Endpoint)
	if err != nil {
		return ""
	}
	return u.Host
}

func (e *Error) hostname() string {
	u, err := url.Parse(e.Endpoint)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// withScheme is endpoint with its scheme replaced.
func withScheme(endpoint, scheme string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return scheme + "://…"
	}
	u.Scheme = scheme
	return u.String()
}

func orElse(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func cause(err error) string {
	if err == nil {
		return ""
	}
	// A *url.Error repeats the method and the URL: keep only its cause.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return ": " + sanitize(de.Err, 300) // the rest repeats the name
	}
	return ": " + sanitize(err.Error(), 300)
}

// formatDuration prints whole seconds as "30s", "2m", "1h30m" and shorter
// durations as time.Duration does.
func formatDuration(d time.Duration) string {
	if d < time.Second || d%time.Second != 0 {
		return d.String()
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// sanitize makes server-supplied text safe to print on a terminal:
// whitespace runs collapse to one space, control and formatting
// characters (escape sequences, bidi overrides, zero-width characters)
// and invalid UTF-8 are shown escaped (untrusted.Text), so that the user
// sees that something was there, and the text is cut to limit runes
// (then "…").
func sanitize(s string, limit int) string {
	return untrusted.Text(strings.Join(strings.Fields(s), " "), limit)
}

// classifyTransport maps a failure to send the request or read the answer.
// parent is the caller's context: if it is done, its error is returned
// as is, unclassified. The order matters: the caller first, then DNS
// (a DNS timeout is a DNS problem), TLS, refusal, then timeouts, then a
// connection cut after it was established (the server died mid-answer:
// a service error, since the server was reached).
func (c *Client) classifyTransport(parent context.Context, err error) error {
	if perr := parent.Err(); perr != nil {
		return perr
	}
	e := &Error{Reason: ReasonOffline, Err: err, Endpoint: c.endpoint, Timeout: c.timeout}
	for u := err; u != nil; u = errors.Unwrap(u) {
		if op, ok := u.(*net.OpError); ok {
			if op.Op == "proxyconnect" { // net/http's mark of a failure to reach the proxy
				e.proxy = true
			}
			if op.Addr != nil {
				e.addr = op.Addr.String()
			}
		}
	}
	var (
		dnsErr   *net.DNSError
		hostErr  x509.HostnameError
		authErr  x509.UnknownAuthorityError
		certErr  x509.CertificateInvalidError
		verErr   *tls.CertificateVerificationError
		recErr   tls.RecordHeaderError
		alertErr tls.AlertError
		netErr   net.Error
	)
	switch {
	case errors.As(err, &dnsErr):
		e.Detail, e.addr = DetailDNS, dnsErr.Name
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http's own check of a tls.RecordHeaderError that reads "HTTP/".
		e.Detail, e.mismatch = DetailTLS, schemePlainServer
	case errors.As(err, &hostErr), errors.As(err, &authErr), errors.As(err, &certErr),
		errors.As(err, &verErr), errors.As(err, &recErr), errors.As(err, &alertErr),
		strings.Contains(err.Error(), "tls: "):
		// The last catches handshake failures crypto/tls reports without an
		// exported type (an unsupported version, for example).
		e.Detail = DetailTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Detail = DetailRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		e.Detail = DetailTimeout
	case isCut(err), strings.Contains(err.Error(), "malformed HTTP"):
		// Reached, but it hung up mid-answer or does not speak HTTP.
		e.Reason, e.Detail = ReasonServiceError, DetailProtocol
	default:
		e.Detail = DetailNetwork
	}
	return e
}

// isCut reports a connection (or, in HTTP/2, a stream) closed or reset by
// the server after it was established: the server died or dropped the
// request mid-way. net/http's HTTP/2 errors have no exported type.
func isCut(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) ||
		strings.Contains(msg, "stream error: ") || strings.Contains(msg, "http2: ")
}

// protocolError is an answer that breaks the API.
func (c *Client) protocolError(status int, format string, args ...any) *Error {
	return &Error{
		Reason: ReasonServiceError, Detail: DetailProtocol, Status: status,
		Err: fmt.Errorf(format, args...), Endpoint: c.endpoint, Timeout: c.timeout,
	}
}

// classifyStatus maps an unexpected HTTP status (and its problem body,
// possibly nil) to an Error.
func (c *Client) classifyStatus(status int, header retryHeader, p *api.Problem) *Error {
	e := &Error{Status: status, Endpoint: c.endpoint, Timeout: c.timeout}
	typ := ""
	if p != nil {
		typ = problemType(p.Type)
		msg := p.Detail
		if msg == "" && p.Title != http.StatusText(status) { // a bare status text says nothing new
			msg = p.Title
		}
		e.Message = sanitize(msg, maxMessage)
	}
	switch {
	case status == 401:
		e.Reason, e.Detail = ReasonLicenseBlocked, DetailNotActivated
		e.key = keySent
		if c.key == "" {
			e.key = keyNone
		}
	case status == 403 && typ == api.ProblemLicenseExpired:
		e.Reason, e.Detail = ReasonLicenseBlocked, DetailExpired
	case status == 403 && typ == api.ProblemLicenseDenylisted:
		e.Reason, e.Detail = ReasonLicenseBlocked, DetailDenylisted
	case status == 429:
		e.Reason, e.Detail = ReasonRateLimited, DetailRateLimited
		e.RetryAfter = c.retryAfter(header, p)
	case status == 503 && typ == api.ProblemRestricted:
		e.Reason, e.Detail = ReasonRateLimited, DetailRestricted
		e.RetryAfter = c.retryAfter(header, p)
	case status == 400:
		e.Reason, e.Detail = ReasonServiceError, DetailBadRequest
	case status == 413:
		e.Reason, e.Detail = ReasonServiceError, DetailTooLarge
	default:
		e.Reason, e.Detail = ReasonServiceError, "http-"+strconv.Itoa(status)
	}
	return e
}

// problemType reduces a problem type to its last path segment, so that
// "license-expired", "/problems/license-expired" and
// "https://ksn.example/problems/license-expired" all match.
func problemType(t string) string {
	t = strings.TrimSpace(t)
	if i := strings.LastIndexAny(t, "/:#"); i >= 0 {
		t = t[i+1:]
	}
	return strings.ToLower(t)
}

// retryHeader is the Retry-After header value, "" when absent.
type retryHeader string

// retryAfter reads Retry-After (delay-seconds or an HTTP date), then the
// problem's retry_after, then falls back to DefaultRetryAfter; the result
// is at least 1s and at most MaxRetryAfter.
func (c *Client) retryAfter(h retryHeader, p *api.Problem) time.Duration {
	d, ok := parseRetryAfter(string(h), c.now())
	if !ok && p != nil && p.RetryAfter > 0 {
		d, ok = time.Duration(min(p.RetryAfter, int(MaxRetryAfter/time.Second)))*time.Second, true
	}
	if !ok {
		d = DefaultRetryAfter
	}
	return min(max(d, minRetryAfter), MaxRetryAfter)
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > uint64(MaxRetryAfter/time.Second) { // only digits: err is an overflow
			return MaxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		// HTTP dates have whole seconds: round up so "in 30s" is not "29.4s".
		return d.Truncate(time.Second) + time.Second*time.Duration(boolInt(d%time.Second > 0)), true
	}
	return 0, false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
