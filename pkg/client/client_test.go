package client

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/exitcode"
)

const testTimeout = 300 * time.Millisecond

// newClient builds a client for endpoint with a short timeout.
func newClient(t *testing.T, endpoint string, mod func(*Options)) *Client {
	t.Helper()
	opts := Options{Endpoint: endpoint, LicenseKey: "k3y", Timeout: testTimeout, UserAgent: "ksn/test"}
	if mod != nil {
		mod(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New(%q): %v", endpoint, err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// server starts an httptest server whose handlers may block until the
// test ends.
func server(t *testing.T, h http.HandlerFunc) (*httptest.Server, <-chan struct{}) {
	t.Helper()
	srv := httptest.NewServer(h)
	done := make(chan struct{})
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs before srv.Close
	return srv, done
}

// rawServer accepts TCP connections and hands each to handle; it closes
// everything when the test ends.
func rawServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			go handle(conn)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// closedPort is an address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// readRequest consumes one HTTP request from conn.
func readRequest(conn net.Conn) {
	req, err := http.ReadRequest(bufio.NewReader(conn))
	if err == nil {
		io.Copy(io.Discard, req.Body)
	}
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *client.Error", err, err)
	}
	return e
}

func TestNew(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		endpoint string // want, "" when an error is expected
		wantErr  string
	}{
		{"https", Options{Endpoint: "https://ksn.example:7415"}, "https://ksn.example:7415", ""},
		{"http with path prefix and slash", Options{Endpoint: "http://127.0.0.1:7415/ksn/"}, "http://127.0.0.1:7415/ksn", ""},
		{"upper-case scheme", Options{Endpoint: "HTTPS://ksn.example"}, "https://ksn.example", ""},
		{"ipv6", Options{Endpoint: "http://[::1]:7415"}, "http://[::1]:7415", ""},
		{"no scheme", Options{Endpoint: "ksn.example:7415"}, "", "https://"},
		{"ftp", Options{Endpoint: "ftp://ksn.example"}, "", "https://"},
		{"userinfo", Options{Endpoint: "https://user:secret@ksn.example"}, "", "user name or password"},
		{"unparseable with userinfo", Options{Endpoint: "https://user:secret@ksn.example:port"}, "", "not shown"},
		{"no host", Options{Endpoint: "https:///v1"}, "", "no host"},
		{"query", Options{Endpoint: "https://ksn.example/?a=b"}, "", "query"},
		{"fragment", Options{Endpoint: "https://ksn.example/#x"}, "", "fragment"},
		{"bad port", Options{Endpoint: "https://ksn.example:port"}, "", "invalid endpoint"},
		{"control character", Options{Endpoint: "https://ksn.example\n"}, "", "invalid endpoint"},
		{"key with space", Options{Endpoint: "https://ksn.example", LicenseKey: "abc def-secret"}, "", "invalid license key"},
		{"key with newline", Options{Endpoint: "https://ksn.example", LicenseKey: "abc\r\nX: y"}, "", "invalid license key"},
		{"negative timeout", Options{Endpoint: "https://ksn.example", Timeout: -time.Second}, "", "invalid timeout"},
		{"bad proxy scheme", Options{Endpoint: "https://ksn.example", Proxy: "ftp://proxy"}, "", "invalid proxy"},
		{"proxy without host", Options{Endpoint: "https://ksn.example", Proxy: "http://"}, "", "invalid proxy"},
		{"socks proxy", Options{Endpoint: "https://ksn.example", Proxy: "socks5://127.0.0.1:1080"}, "https://ksn.example", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.opts)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("New succeeded, want error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q repeats a secret", err)
				}
				var ce *Error
				if errors.As(err, &ce) {
					t.Errorf("configuration error is a *client.Error: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if c.Endpoint() != tt.endpoint {
				t.Errorf("Endpoint() = %q, want %q", c.Endpoint(), tt.endpoint)
			}
		})
	}
}

func TestNewNoEndpoint(t *testing.T) {
	for _, ep := range []string{"", "  "} {
		_, err := New(Options{Endpoint: ep})
		e := asError(t, err)
		if e.Reason != ReasonOffline || e.Detail != DetailNoEndpoint || e.ExitCode() != exitcode.Offline {
			t.Errorf("New(%q) = %+v, want offline/no-endpoint", ep, e)
		}
	}
}

func TestNewMakesNoRequest(t *testing.T) {
	var hits atomic.Int32
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	var accepted atomic.Int32
	raw := rawServer(t, func(conn net.Conn) { accepted.Add(1) })

	newClient(t, srv.URL, nil)
	newClient(t, "http://"+raw, nil)
	// New must not fail for an endpoint that is down: it never connects.
	newClient(t, "http://"+closedPort(t), nil)
	newClient(t, "http://ksn-test.invalid", nil)

	time.Sleep(50 * time.Millisecond) // let a stray connection arrive, if there were one
	if n := hits.Load(); n != 0 {
		t.Errorf("New made %d requests", n)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("New opened %d connections", n)
	}
}

func TestRequestHeaders(t *testing.T) {
	type seen struct{ method, path, auth, agent, ctype, accept string }
	var got []seen
	var mu sync.Mutex
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("User-Agent"),
			r.Header.Get("Content-Type"), r.Header.Get("Accept")})
		mu.Unlock()
		switch r.URL.Path {
		case "/prefix" + api.PathStatus:
			io.WriteString(w, `{"license":{"state":"valid"},"file_reputation":"available"}`)
		case "/prefix" + api.PathLookupFiles:
			io.WriteString(w, `{"results":[{"verdict":"unknown"}]}`)
		default:
			http.NotFound(w, r)
		}
	})
	ctx := context.Background()

	c := newClient(t, srv.URL+"/prefix/", nil)
	if _, err := c.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LookupFiles(ctx, []api.FileQuery{{Digests: map[string]string{"sha256": "00"}}}); err != nil {
		t.Fatal(err)
	}
	anon := newClient(t, srv.URL+"/prefix", func(o *Options) { o.LicenseKey = "" })
	if _, err := anon.Status(ctx); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	want := []seen{
		{"GET", "/prefix/v1/status", "Bearer k3y", "ksn/test", "", "application/json, application/problem+json"},
		{"POST", "/prefix/v1/lookup/files", "Bearer k3y", "ksn/test", "application/json", "application/json, application/problem+json"},
		{"GET", "/prefix/v1/status", "", "ksn/test", "", "application/json, application/problem+json"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests:\n got %+v\nwant %+v", got, want)
	}
}

func TestStatusAndStatement(t *testing.T) {
	text := "We collect digests.\n"
	sum := sha256.Sum256([]byte(text))
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case api.PathStatus:
			io.WriteString(w, `{"license":{"state":"valid","label":"lab","expires_at":"2030-01-02T03:04:05Z"},
				"statement":{"id":"s1","sha256":"abababababababababababababababababababababababababababababababab"},"limits":{"max_batch":1000,"items_per_second":50,"burst":100,"cache_ttl_seconds":3600},
				"file_reputation":"available","future_field":true}`)
		case api.PathStatement:
			json.NewEncoder(w).Encode(api.Statement{ID: "s1", SHA256: hex.EncodeToString(sum[:]), Text: text})
		}
	})
	c := newClient(t, srv.URL, nil)
	st, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.License.State != "valid" || st.License.ExpiresAt == nil || st.License.ExpiresAt.Year() != 2030 ||
		st.Statement.ID != "s1" || st.Limits.Burst != 100 || st.FileReputation != "available" {
		t.Errorf("Status = %+v", st)
	}
	s, err := c.Statement(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "s1" || s.Text != text {
		t.Errorf("Statement = %+v", s)
	}
}

// TestTransportFailures reproduces each network failure for real.
func TestTransportFailures(t *testing.T) {
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/abort"+api.PathStatus {
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, `{"license":`)
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // HTTP/2: RST_STREAM mid-body
		}
		io.WriteString(w, `{"license":{"state":"valid"}}`)
	}))
	tlsSrv.EnableHTTP2 = true
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are the point
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	trusted := x509.NewCertPool()
	trusted.AddCert(tlsSrv.Certificate())
	tlsPort := tlsSrv.Listener.Addr().(*net.TCPAddr).Port

	plainSrv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"license":{"state":"valid"}}`)
	})
	stop := make(chan struct{})
	stallSrv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, `{"license":`)
		w.(http.Flusher).Flush()
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(stop) })
	silent := rawServer(t, func(conn net.Conn) {}) // accepts, never answers
	midBody := rawServer(t, func(conn net.Conn) {
		readRequest(conn)
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"license\":")
		conn.Close()
	})
	hangUp := rawServer(t, func(conn net.Conn) {
		readRequest(conn)
		conn.Close()
	})
	reset := rawServer(t, func(conn net.Conn) {
		readRequest(conn)
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	})
	garbage := rawServer(t, func(conn net.Conn) {
		readRequest(conn)
		io.WriteString(conn, "SSH-2.0-OpenSSH_9.6\r\n")
		conn.Close()
	})

	tests := []struct {
		name     string
		endpoint string
		mod      func(*Options)
		reason   Reason
		detail   string
		exit     exitcode.Code
		text     string // in Error()
		hint     string // in Hint()
	}{
		{"trusted TLS works", tlsSrv.URL, func(o *Options) { o.RootCAs = trusted }, "", "", 0, "", ""},
		{"refused", "http://" + closedPort(t), nil, ReasonOffline, DetailRefused, exitcode.Offline,
			"offline: connection refused by 127.0.0.1:", "is ksn serve running at http://127.0.0.1:"},
		{"dns", "http://ksn-test.invalid:7415", func(o *Options) { o.Timeout = 5 * time.Second }, ReasonOffline, DetailDNS, exitcode.Offline,
			"offline: cannot resolve the host name ksn-test.invalid", "check the endpoint's host name"},
		{"accepts and never answers", "http://" + silent, nil, ReasonOffline, DetailTimeout, exitcode.Offline,
			"within 300ms", "the server did not answer within 300ms: check it, or raise it with ksn config set timeout 30s"},
		{"TLS handshake never answered", "https://" + silent, nil, ReasonOffline, DetailTimeout, exitcode.Offline,
			"within 300ms", "ksn config set timeout"},
		{"stalls mid-body", stallSrv.URL, nil, ReasonOffline, DetailTimeout, exitcode.Offline, "within 300ms", "ksn config set timeout"},
		{"certificate for another name", "https://localhost:" + strconv.Itoa(tlsPort), func(o *Options) { o.RootCAs = trusted },
			ReasonOffline, DetailTLS, exitcode.Offline, "certificate", "check the endpoint's certificate (host name, issuer, expiry)"},
		{"untrusted CA", tlsSrv.URL, func(o *Options) { o.RootCAs = x509.NewCertPool() },
			ReasonOffline, DetailTLS, exitcode.Offline, "unknown authority", "check the endpoint's certificate"},
		{"https to a plain HTTP server", strings.Replace(plainSrv.URL, "http://", "https://", 1), nil,
			ReasonOffline, DetailTLS, exitcode.Offline, "does not speak TLS", "give ksn serve a certificate"},
		{"http to a TLS server", strings.Replace(tlsSrv.URL, "https://", "http://", 1), nil,
			ReasonOffline, DetailTLS, exitcode.Offline, "speaks only TLS", "ksn config set endpoint https://127.0.0.1:"},
		{"closes mid-body", "http://" + midBody, nil, ReasonServiceError, DetailProtocol, exitcode.ServiceError,
			"service error: the server closed the connection before its answer was complete: unexpected EOF", "the server failed; try again later"},
		{"hangs up without answering", "http://" + hangUp, nil, ReasonServiceError, DetailProtocol, exitcode.ServiceError,
			"closed the connection", "the server failed"},
		{"resets the connection", "http://" + reset, nil, ReasonServiceError, DetailProtocol, exitcode.ServiceError,
			"connection reset", "the server failed"},
		{"HTTP/2 stream reset mid-body", tlsSrv.URL + "/abort", func(o *Options) { o.RootCAs = trusted },
			ReasonServiceError, DetailProtocol, exitcode.ServiceError, "closed the connection before its answer was complete", "the server failed"},
		{"not HTTP at all", "http://" + garbage, nil, ReasonServiceError, DetailProtocol, exitcode.ServiceError,
			"broke the protocol", "is a ksn server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.detail == DetailDNS && proxied() {
				t.Skip("a proxy from the environment would resolve the name")
			}
			c := newClient(t, tt.endpoint, tt.mod)
			_, err := c.Status(context.Background())
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Status: %v", err)
				}
				return
			}
			e := asError(t, err)
			t.Logf("%s\n  hint: %s", e, e.Hint())
			if e.Reason != tt.reason || e.Detail != tt.detail {
				t.Fatalf("got %s/%s (%v), want %s/%s", e.Reason, e.Detail, err, tt.reason, tt.detail)
			}
			if e.ExitCode() != tt.exit {
				t.Errorf("ExitCode = %d, want %d", e.ExitCode(), tt.exit)
			}
			if !strings.Contains(e.Error(), tt.text) {
				t.Errorf("Error() = %q, want it to contain %q", e.Error(), tt.text)
			}
			if !strings.Contains(e.Hint(), tt.hint) {
				t.Errorf("Hint() = %q, want it to contain %q", e.Hint(), tt.hint)
			}
			if e.Endpoint != c.Endpoint() || e.Timeout != c.timeout {
				t.Errorf("Endpoint/Timeout = %q/%s", e.Endpoint, e.Timeout)
			}
			if e.Unwrap() == nil {
				t.Errorf("no underlying error")
			}
		})
	}
}

// problem answers with status and an optional problem document.
func problem(status int, typ, detail string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		if typ == "" && detail == "" {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", api.ProblemContentType)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(api.Problem{Type: typ, Title: http.StatusText(status), Status: status, Detail: detail})
	}
}

func TestStatusCodes(t *testing.T) {
	tests := []struct {
		name    string
		h       http.HandlerFunc
		reason  Reason
		detail  string
		exit    exitcode.Code
		retry   time.Duration
		message string
		text    string
		hint    string
	}{
		{"401", problem(401, api.ProblemNotActivated, "unknown key"),
			ReasonLicenseBlocked, DetailNotActivated, exitcode.LicenseBlocked, 0, "unknown key",
			"license blocked: the server does not know the license key (server says: unknown key)", "ksn license activate <key>"},
		{"401 without body", problem(401, "", ""),
			ReasonLicenseBlocked, DetailNotActivated, exitcode.LicenseBlocked, 0, "", "license blocked", "ksn license activate <key>"},
		{"403 expired", problem(403, api.ProblemLicenseExpired, "expired on 2026-01-01"),
			ReasonLicenseBlocked, DetailExpired, exitcode.LicenseBlocked, 0, "expired on 2026-01-01",
			"license blocked: the license key has expired", "ask the server's operator for a new license key, then: ksn license activate <key>"},
		{"403 denylisted as URI", problem(403, "https://ksn.example/problems/license-denylisted", ""),
			ReasonLicenseBlocked, DetailDenylisted, exitcode.LicenseBlocked, 0, "",
			"license blocked: the license key has been revoked", "ask the server's operator for a new license key"},
		{"403 unknown type", problem(403, "forbidden-by-waf", ""),
			ReasonServiceError, "http-403", exitcode.ServiceError, 0, "", "service error: the server answered HTTP 403", "is a ksn server"},
		{"429 seconds", problem(429, api.ProblemRateLimited, "quota", "Retry-After", "30"),
			ReasonRateLimited, DetailRateLimited, exitcode.RateLimited, 30 * time.Second, "quota",
			"rate-limited: the server asks to wait 30s", "wait 30s, then try again"},
		{"429 no header", problem(429, "", ""),
			ReasonRateLimited, DetailRateLimited, exitcode.RateLimited, DefaultRetryAfter, "", "wait 1m", "wait 1m, then try again"},
		{"429 garbage header", problem(429, "", "", "Retry-After", "soon"),
			ReasonRateLimited, DetailRateLimited, exitcode.RateLimited, DefaultRetryAfter, "", "wait 1m", "wait 1m"},
		{"429 absurd header", problem(429, "", "", "Retry-After", "99999999999999999999"),
			ReasonRateLimited, DetailRateLimited, exitcode.RateLimited, time.Hour, "", "wait 1h", "wait 1h, then"},
		{"429 zero header", problem(429, "", "", "Retry-After", "0"),
			ReasonRateLimited, DetailRateLimited, exitcode.RateLimited, time.Second, "", "wait 1s", "wait 1s"},
		{"429 retry in problem only", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", api.ProblemContentType)
			w.WriteHeader(429)
			json.NewEncoder(w).Encode(api.Problem{Type: api.ProblemRateLimited, Status: 429, RetryAfter: 90})
		}, ReasonRateLimited, DetailRateLimited, exitcode.RateLimited, 90 * time.Second, "", "wait 1m30s", "wait 1m30s"},
		{"503 restricted", problem(503, api.ProblemRestricted, "maintenance", "Retry-After", "120"),
			ReasonRateLimited, DetailRestricted, exitcode.RateLimited, 2 * time.Minute, "maintenance",
			"rate-limited: file reputation is restricted", "file reputation is restricted by the operator; try again in 2m"},
		{"503 plain", problem(503, "", "", "Retry-After", "120"),
			ReasonServiceError, "http-503", exitcode.ServiceError, 0, "", "HTTP 503", "the server failed; try again later or tell its operator"},
		{"500", problem(500, api.ProblemInternal, "database is locked"),
			ReasonServiceError, "http-500", exitcode.ServiceError, 0, "database is locked",
			"service error: the server answered HTTP 500 (server says: database is locked)", "the server failed; try again later"},
		{"502 from a proxy, HTML", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			io.WriteString(w, "<html><body>Bad Gateway</body></html>")
		}, ReasonServiceError, "http-502", exitcode.ServiceError, 0, "", "HTTP 502", "the server failed"},
		{"400", problem(400, api.ProblemBadRequest, "items[3].digests: unknown algorithm \"md4\""),
			ReasonServiceError, DetailBadRequest, exitcode.ServiceError, 0, `items[3].digests: unknown algorithm "md4"`,
			"service error: the server rejected the request as malformed (HTTP 400)", "update ksn"},
		{"413", problem(413, api.ProblemTooLarge, "body exceeds 1 MiB"),
			ReasonServiceError, DetailTooLarge, exitcode.ServiceError, 0, "body exceeds 1 MiB", "too large (HTTP 413)", "update ksn"},
		{"404", problem(404, "", ""),
			ReasonServiceError, "http-404", exitcode.ServiceError, 0, "", "HTTP 404", "is a ksn server"},
		{"redirect not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/", http.StatusFound)
		}, ReasonServiceError, "http-302", exitcode.ServiceError, 0, "", "HTTP 302", "is a ksn server"},
		{"hostile message", problem(400, api.ProblemBadRequest, "\x1b[31mred\x1b[0m\u202eevil\r\nnext "+strings.Repeat("x", 300)),
			ReasonServiceError, DetailBadRequest, exitcode.ServiceError, 0,
			`\x1b[31mred\x1b[0m\u202eevil next ` + strings.Repeat("x", maxMessage-1-len(`\x1b[31mred\x1b[0m\u202eevil next `)) + "…", "HTTP 400", "update ksn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var auth atomic.Value
			var status atomic.Int32
			srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
				auth.Store(r.Header.Get("Authorization"))
				rec := &statusRecorder{ResponseWriter: w, status: &status}
				tt.h(rec, r)
			})
			c := newClient(t, srv.URL, nil)
			_, err := c.LookupFiles(context.Background(), []api.FileQuery{{Digests: map[string]string{"sha256": "00"}}})
			e := asError(t, err)
			if got, _ := auth.Load().(string); got != "Bearer k3y" {
				t.Errorf("Authorization = %q", got)
			}
			if e.Reason != tt.reason || e.Detail != tt.detail {
				t.Fatalf("got %s/%s (%v), want %s/%s", e.Reason, e.Detail, err, tt.reason, tt.detail)
			}
			if e.Status != int(status.Load()) || e.Status == 0 {
				t.Errorf("Status = %d", e.Status)
			}
			if e.ExitCode() != tt.exit {
				t.Errorf("ExitCode = %d, want %d", e.ExitCode(), tt.exit)
			}
			if e.RetryAfter != tt.retry {
				t.Errorf("RetryAfter = %s, want %s", e.RetryAfter, tt.retry)
			}
			if e.Message != tt.message {
				t.Errorf("Message = %q, want %q", e.Message, tt.message)
			}
			if !strings.Contains(e.Error(), tt.text) {
				t.Errorf("Error() = %q, want it to contain %q", e.Error(), tt.text)
			}
			if !strings.Contains(e.Hint(), tt.hint) {
				t.Errorf("Hint() = %q, want it to contain %q", e.Hint(), tt.hint)
			}
		})
	}
}

// statusRecorder notes the status before it is sent.
type statusRecorder struct {
	http.ResponseWriter
	status *atomic.Int32
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status.Store(int32(code))
	r.ResponseWriter.WriteHeader(code)
}

func TestProtocolViolations(t *testing.T) {
	one := []api.FileQuery{{Digests: map[string]string{"sha256": "00"}}}
	big := strings.Repeat(" ", MaxResponseBytes) + `{"results":[{"verdict":"unknown"}]}`
	tests := []struct {
		name   string
		call   string // "lookup", "statement", "submit", "status"
		status int
		ctype  string
		body   string
		text   string
	}{
		{"not JSON", "lookup", 200, "application/json", `oops`, "not a JSON object"},
		{"captive portal HTML", "status", 200, "text/html", `<html>login</html>`, "(text/html) is not the expected JSON"},
		{"null", "status", 200, "application/json", `null`, "not a JSON object"},
		{"array", "lookup", 200, "application/json", `[{"verdict":"unknown"}]`, "not a JSON object"},
		{"empty", "status", 200, "application/json", ``, "not a JSON object"},
		{"wrong field type", "lookup", 200, "application/json", `{"results":"unknown"}`, "cannot unmarshal"},
		{"trailing data", "lookup", 200, "application/json", `{"results":[{"verdict":"unknown"}]}{}`, "data after the JSON object"},
		{"truncated", "lookup", 200, "application/json", `{"results":[{"verdict":"unk`, "unexpected EOF"},
		{"too large", "lookup", 200, "application/json", big, "exceeds 16777216 bytes"},
		{"too few results", "lookup", 200, "application/json", `{"results":[]}`, "0 results for 1 items"},
		{"too many results", "lookup", 200, "application/json", `{"results":[{"verdict":"clean"},{"verdict":"clean"}]}`, "2 results for 1 items"},
		{"results missing", "lookup", 200, "application/json", `{}`, "0 results for 1 items"},
		{"result without verdict", "lookup", 200, "application/json", `{"results":[{"threat":"x"}]}`, "result 0 has no verdict"},
		{"unexpected 2xx", "lookup", 204, "", ``, "unexpected status 204"},
		{"statement digest mismatch", "statement", 200, "application/json", `{"id":"s1","sha256":"00","text":"hello"}`, "sha256 is not the lower-case hex SHA-256 of its text"},
		{"statement digest upper-case", "statement", 200, "application/json",
			`{"id":"s1","sha256":"2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824","text":"hello"}`, "lower-case"},
		{"statement without id", "statement", 200, "application/json",
			`{"id":"","sha256":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824","text":"hello"}`, "no id"},
		{"statement id with an escape sequence", "statement", 200, "application/json",
			`{"id":"s1\u001b]8;;http://x\u0007","sha256":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824","text":"hello"}`, `statement id "s1\x1b]8;;http://x\a" is not`},
		{"status statement id with a bidi override", "status", 200, "application/json",
			`{"statement":{"id":"ksn-\u202eabc","sha256":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}}`, `statement id "ksn-\u202eabc" is not`},
		{"status statement digest not hex", "status", 200, "application/json",
			`{"statement":{"id":"s1","sha256":"zz"}}`, "sha256 is not 64 lower-case hex"},
		{"submission over-counted", "submit", 202, "application/json", `{"accepted":2,"duplicates":0}`, "2 accepted and 0 duplicates for 1 records"},
		{"submission negative", "submit", 202, "application/json", `{"accepted":-1,"duplicates":0}`, "-1 accepted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			c := newClient(t, srv.URL, func(o *Options) { o.Timeout = 5 * time.Second })
			var err error
			switch tt.call {
			case "lookup":
				var res []api.FileResult
				res, err = c.LookupFiles(context.Background(), one)
				if len(res) != 0 {
					t.Errorf("results returned with a protocol error: %+v", res)
				}
			case "status":
				_, err = c.Status(context.Background())
			case "statement":
				_, err = c.Statement(context.Background())
			case "submit":
				_, err = c.Submit(context.Background(), testParticipant, []api.Record{{ID: "0123456789abcdef0123456789abcdef", Kind: "file", Body: json.RawMessage(`{}`)}})
			}
			e := asError(t, err)
			t.Logf("%s\n  hint: %s", e, e.Hint())
			if e.Reason != ReasonServiceError || e.Detail != DetailProtocol || e.Status != tt.status {
				t.Fatalf("got %s/%s status %d (%v), want service-error/protocol status %d", e.Reason, e.Detail, e.Status, err, tt.status)
			}
			if e.ExitCode() != exitcode.ServiceError {
				t.Errorf("ExitCode = %d", e.ExitCode())
			}
			if !strings.Contains(e.Error(), tt.text) {
				t.Errorf("Error() = %q, want it to contain %q", e.Error(), tt.text)
			}
			if !strings.Contains(e.Hint(), "is a ksn server") {
				t.Errorf("Hint() = %q", e.Hint())
			}
		})
	}
}

// lookupServer answers each lookup with results that name their item
// (Threat = the item's sha256) and records each batch's size.
func lookupServer(t *testing.T, fail func(n int) bool) (*httptest.Server, func() []int) {
	var mu sync.Mutex
	var sizes []int
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		var req api.FileLookupRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		sizes = append(sizes, len(req.Items))
		n := len(sizes)
		mu.Unlock()
		if fail != nil && fail(n) {
			problem(429, api.ProblemRateLimited, "", "Retry-After", "7")(w, r)
			return
		}
		var resp api.FileLookupResponse
		for _, it := range req.Items {
			resp.Results = append(resp.Results, api.FileResult{Verdict: "unknown", Threat: it.Digests["sha256"]})
		}
		json.NewEncoder(w).Encode(resp)
	})
	return srv, func() []int { mu.Lock(); defer mu.Unlock(); return append([]int(nil), sizes...) }
}

func queries(n int) []api.FileQuery {
	items := make([]api.FileQuery, n)
	for i := range items {
		items[i] = api.FileQuery{Digests: map[string]string{"sha256": strconv.Itoa(i)}, Size: int64(i)}
	}
	return items
}

func TestLookupFilesBatches(t *testing.T) {
	tests := []struct {
		n     int
		sizes []int
	}{
		{0, nil},
		{1, []int{1}},
		{api.MaxBatch, []int{api.MaxBatch}},
		{api.MaxBatch + 1, []int{api.MaxBatch, 1}},
		{2500, []int{1000, 1000, 500}},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.n), func(t *testing.T) {
			srv, sizes := lookupServer(t, nil)
			c := newClient(t, srv.URL, func(o *Options) { o.Timeout = 5 * time.Second })
			res, err := c.LookupFiles(context.Background(), queries(tt.n))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(sizes()) != fmt.Sprint(tt.sizes) {
				t.Errorf("batch sizes %v, want %v", sizes(), tt.sizes)
			}
			if len(res) != tt.n {
				t.Fatalf("%d results for %d items", len(res), tt.n)
			}
			for i, r := range res {
				if r.Threat != strconv.Itoa(i) {
					t.Fatalf("result %d is for item %q: out of order", i, r.Threat)
				}
			}
		})
	}
}

func TestLookupFilesPartialOnError(t *testing.T) {
	srv, sizes := lookupServer(t, func(n int) bool { return n == 3 })
	c := newClient(t, srv.URL, func(o *Options) { o.Timeout = 5 * time.Second })
	res, err := c.LookupFiles(context.Background(), queries(3500))
	e := asError(t, err)
	if e.Reason != ReasonRateLimited || e.RetryAfter != 7*time.Second {
		t.Errorf("got %+v, want rate-limited 7s", e)
	}
	if fmt.Sprint(sizes()) != "[1000 1000 1000]" {
		t.Errorf("batch sizes %v: the client must stop at the first failure and never retry", sizes())
	}
	if len(res) != 2000 || res[1999].Threat != "1999" {
		t.Errorf("got %d results, want the 2000 of the batches that succeeded", len(res))
	}
}

// testParticipant is a participant code as participation.ParticipantCode
// makes them.
const testParticipant = "00112233445566778899aabbccddeeff"

// TestSubmit checks that every batch carries the participant code.
func TestSubmit(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != api.PathSubmissions || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var b api.SubmissionBatch
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		if b.Participant != testParticipant {
			http.Error(w, "participant "+b.Participant, 400)
			return
		}
		mu.Lock()
		for _, rec := range b.Records {
			got = append(got, rec.ID)
		}
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(api.SubmissionResult{Accepted: len(b.Records) - 1, Duplicates: 1})
	})
	recs := make([]api.Record, 2500)
	for i := range recs {
		recs[i] = api.Record{ID: fmt.Sprintf("%032x", i), Kind: "file", CreatedAt: time.Unix(0, 0).UTC(), Body: json.RawMessage(`{"size":1}`)}
	}
	c := newClient(t, srv.URL, func(o *Options) { o.Timeout = 5 * time.Second })
	res, err := c.Submit(context.Background(), testParticipant, recs)
	if err != nil {
		t.Fatal(err)
	}
	if res != (api.SubmissionResult{Accepted: 2497, Duplicates: 3}) {
		t.Errorf("Submit = %+v, want the sums of 3 batches", res)
	}
	if res, err := c.Submit(context.Background(), testParticipant, nil); err != nil || res != (api.SubmissionResult{}) {
		t.Errorf("Submit(nil) = %+v, %v", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2500 || got[0] != recs[0].ID || got[2499] != recs[2499].ID {
		t.Errorf("server saw %d records (Submit(nil) must send none)", len(got))
	}
}

func TestCallerContext(t *testing.T) {
	silent := rawServer(t, func(conn net.Conn) {})
	c := newClient(t, "http://"+silent, func(o *Options) { o.Timeout = time.Minute })

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.Status(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
	var ce *Error
	if errors.As(err, &ce) {
		t.Errorf("cancellation was classified: %v", ce)
	}

	ctx, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	_, err = c.LookupFiles(ctx, queries(3))
	if err != context.DeadlineExceeded {
		t.Errorf("caller deadline: got %v (%T), want context.DeadlineExceeded itself", err, err)
	}

	done, cancel3 := context.WithCancel(context.Background())
	cancel3()
	if _, err := c.Statement(done); err != context.Canceled {
		t.Errorf("already cancelled: got %v", err)
	}
}

func TestLookupFilesEmptyMakesNoRequest(t *testing.T) {
	var hits atomic.Int32
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	c := newClient(t, srv.URL, nil)
	res, err := c.LookupFiles(context.Background(), nil)
	if err != nil || len(res) != 0 || hits.Load() != 0 {
		t.Errorf("LookupFiles(nil) = %v, %v after %d requests", res, err, hits.Load())
	}
}

func TestRetryAfterDate(t *testing.T) {
	now := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), time.Second},        // in the past: at least 1s
		{now.Add(48 * time.Hour).Format(http.TimeFormat), time.Hour},      // capped
		{now.Add(90 * time.Second).Format(time.RFC850), 90 * time.Second}, // obsolete format, still HTTP
		{"Mon, 32 Foo 2026 99:00:00 GMT", DefaultRetryAfter},              // garbage
		{"-5", DefaultRetryAfter},                                         // not delay-seconds
		{" 45 ", 45 * time.Second},                                        // whitespace
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			srv, _ := server(t, problem(429, api.ProblemRateLimited, "", "Retry-After", tt.header))
			c := newClient(t, srv.URL, nil)
			c.now = func() time.Time { return now }
			_, err := c.Status(context.Background())
			e := asError(t, err)
			if e.Reason != ReasonRateLimited || e.RetryAfter != tt.want {
				t.Errorf("got %s %s, want rate-limited %s", e.Reason, e.RetryAfter, tt.want)
			}
		})
	}
}

func proxied() bool {
	for _, v := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"} {
		if os.Getenv(v) != "" {
			return true
		}
	}
	return false
}

func TestProxy(t *testing.T) {
	// A plain HTTP proxy sees the absolute URL of the request.
	var seen atomic.Value
	proxy, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.URL.String() + " " + r.Header.Get("Authorization"))
		io.WriteString(w, `{"license":{"state":"valid"}}`)
	})
	c := newClient(t, "http://ksn-test.invalid:7415", func(o *Options) { o.Proxy = proxy.URL })
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	if got, _ := seen.Load().(string); got != "http://ksn-test.invalid:7415/v1/status Bearer k3y" {
		t.Errorf("proxy saw %q", got)
	}

	tests := []struct {
		name, proxy, text, hint string
		detail                  string
	}{
		{"proxy refuses", "http://" + closedPort(t), "offline: connection refused by the proxy at 127.0.0.1:", "is the proxy running?", DetailRefused},
		{"proxy does not resolve", "http://proxy-test.invalid:3128", "offline: cannot resolve the proxy's host name proxy-test.invalid", "check the proxy's host name", DetailDNS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, "https://ksn.example:7415", func(o *Options) { o.Proxy = tt.proxy; o.Timeout = 5 * time.Second })
			_, err := c.Status(context.Background())
			e := asError(t, err)
			t.Logf("%s\n  hint: %s", e, e.Hint())
			if e.Reason != ReasonOffline || e.Detail != tt.detail {
				t.Fatalf("got %s/%s (%v)", e.Reason, e.Detail, err)
			}
			if !strings.Contains(e.Error(), tt.text) || !strings.Contains(e.Hint(), tt.hint) {
				t.Errorf("Error() = %q, Hint() = %q", e.Error(), e.Hint())
			}
		})
	}
}

func TestNotActivatedWithoutKey(t *testing.T) {
	srv, _ := server(t, problem(401, api.ProblemNotActivated, ""))
	for _, key := range []string{"", "k3y"} {
		c := newClient(t, srv.URL, func(o *Options) { o.LicenseKey = key })
		_, err := c.Status(context.Background())
		e := asError(t, err)
		t.Logf("key %q: %s", key, e)
		if e.Detail != DetailNotActivated || e.Hint() != "ksn license activate <key>" {
			t.Errorf("key %q: %+v", key, e)
		}
		if noKey := strings.Contains(e.Error(), "no license key is set"); noKey != (key == "") {
			t.Errorf("key %q: Error() = %q", key, e.Error())
		}
	}
}

func TestSubmitPartialOnError(t *testing.T) {
	var n atomic.Int32
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 2 {
			problem(500, api.ProblemInternal, "disk full")(w, r)
			return
		}
		var b api.SubmissionBatch
		json.NewDecoder(r.Body).Decode(&b)
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(api.SubmissionResult{Accepted: len(b.Records)})
	})
	recs := make([]api.Record, 2500)
	for i := range recs {
		recs[i] = api.Record{ID: fmt.Sprintf("%032x", i), Kind: "file", Body: json.RawMessage(`{}`)}
	}
	c := newClient(t, srv.URL, func(o *Options) { o.Timeout = 5 * time.Second })
	res, err := c.Submit(context.Background(), testParticipant, recs)
	e := asError(t, err)
	if e.Detail != "http-500" || e.Message != "disk full" || e.ExitCode() != exitcode.ServiceError {
		t.Errorf("got %+v", e)
	}
	if res.Accepted != 1000 || n.Load() != 2 {
		t.Errorf("Submit = %+v after %d requests, want the first batch's 1000 and no third request", res, n.Load())
	}
}

func TestStatusMaxBatchShrinksBatches(t *testing.T) {
	for _, tt := range []struct {
		maxBatch int
		sizes    string
	}{
		{400, "[400 400 200]"},
		{0, "[1000]"},    // not announced
		{5000, "[1000]"}, // larger than the API allows: ignored
	} {
		t.Run(strconv.Itoa(tt.maxBatch), func(t *testing.T) {
			var mu sync.Mutex
			var sizes []int
			srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == api.PathStatus {
					json.NewEncoder(w).Encode(api.Status{Limits: api.Limits{MaxBatch: tt.maxBatch}})
					return
				}
				var req api.FileLookupRequest
				json.NewDecoder(r.Body).Decode(&req)
				mu.Lock()
				sizes = append(sizes, len(req.Items))
				mu.Unlock()
				resp := api.FileLookupResponse{Results: make([]api.FileResult, len(req.Items))}
				for i := range resp.Results {
					resp.Results[i].Verdict = "unknown"
				}
				json.NewEncoder(w).Encode(resp)
			})
			c := newClient(t, srv.URL, func(o *Options) { o.Timeout = 5 * time.Second })
			if _, err := c.Status(context.Background()); err != nil {
				t.Fatal(err)
			}
			res, err := c.LookupFiles(context.Background(), queries(1000))
			if err != nil || len(res) != 1000 {
				t.Fatalf("LookupFiles: %d results, %v", len(res), err)
			}
			mu.Lock()
			defer mu.Unlock()
			if fmt.Sprint(sizes) != tt.sizes {
				t.Errorf("batch sizes %v, want %s", sizes, tt.sizes)
			}
		})
	}
}
