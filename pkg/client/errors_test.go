package client

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/exitcode"
)

// TestErrorTexts pins the message, exit code and hint of every detail, as
// a caller that builds an Error by hand (or gets one from the Client) sees
// them.
func TestErrorTexts(t *testing.T) {
	const ep = "https://ksn.example:7415"
	tests := []struct {
		e    *Error
		exit exitcode.Code
		text string
		hint string
	}{
		{NoEndpoint(), exitcode.Offline,
			"offline: no endpoint is configured", "ksn config set endpoint https://<server>"},
		{&Error{Reason: ReasonOffline, Detail: DetailDNS, Endpoint: ep}, exitcode.Offline,
			"offline: cannot resolve the host name ksn.example", "check the endpoint's host name (ksn config get endpoint)"},
		{&Error{Reason: ReasonOffline, Detail: DetailRefused, Endpoint: ep}, exitcode.Offline,
			"offline: connection refused by ksn.example:7415", "is ksn serve running at https://ksn.example:7415?"},
		{&Error{Reason: ReasonOffline, Detail: DetailRefused}, exitcode.Offline,
			"offline: connection refused by the endpoint", "is ksn serve running at the configured endpoint?"},
		{&Error{Reason: ReasonOffline, Detail: DetailTimeout, Endpoint: ep, Timeout: 10 * time.Second}, exitcode.Offline,
			"offline: no answer from ksn.example:7415 within 10s",
			"the server did not answer within 10s: check it, or raise it with ksn config set timeout 30s"},
		{&Error{Reason: ReasonOffline, Detail: DetailTLS, Endpoint: ep, Err: errors.New("x509: certificate has expired")}, exitcode.Offline,
			"offline: TLS with ksn.example:7415 failed: x509: certificate has expired", "check the endpoint's certificate (host name, issuer, expiry)"},
		{&Error{Reason: ReasonOffline, Detail: DetailNetwork, Endpoint: ep, Err: errors.New("connect: network is unreachable")}, exitcode.Offline,
			"offline: cannot reach ksn.example:7415: connect: network is unreachable", "check the network connection (and proxy) to https://ksn.example:7415"},
		{&Error{Reason: ReasonLicenseBlocked, Detail: DetailNotActivated, Status: 401}, exitcode.LicenseBlocked,
			"license blocked: the server does not accept the license key", "ksn license activate <key>"},
		{&Error{Reason: ReasonLicenseBlocked, Detail: DetailExpired, Status: 403}, exitcode.LicenseBlocked,
			"license blocked: the license key has expired", "ask the server's operator for a new license key, then: ksn license activate <key>"},
		{&Error{Reason: ReasonLicenseBlocked, Detail: DetailDenylisted, Status: 403}, exitcode.LicenseBlocked,
			"license blocked: the license key has been revoked", "ask the server's operator for a new license key, then: ksn license activate <key>"},
		{&Error{Reason: ReasonRateLimited, Detail: DetailRateLimited, Status: 429, RetryAfter: 30 * time.Second}, exitcode.RateLimited,
			"rate-limited: the server asks to wait 30s", "wait 30s, then try again"},
		{&Error{Reason: ReasonRateLimited, Detail: DetailRestricted, Status: 503, RetryAfter: 10 * time.Minute}, exitcode.RateLimited,
			"rate-limited: file reputation is restricted by the server's operator; the server asks to wait 10m",
			"file reputation is restricted by the operator; try again in 10m"},
		{&Error{Reason: ReasonServiceError, Detail: "http-500", Status: 500, Message: "boom"}, exitcode.ServiceError,
			"service error: the server answered HTTP 500 (server says: boom)", "the server failed; try again later or tell its operator"},
		{&Error{Reason: ReasonServiceError, Detail: DetailProtocol, Endpoint: ep, Err: errors.New("2 results for 1 items")}, exitcode.ServiceError,
			"service error: the server broke the protocol: 2 results for 1 items", "check that https://ksn.example:7415 is a ksn server"},
		{&Error{Reason: ReasonServiceError, Detail: DetailBadRequest, Status: 400, Message: "bad digest"}, exitcode.ServiceError,
			"service error: the server rejected the request as malformed (HTTP 400) (server says: bad digest)", "this ksn and the server may disagree on the API; update ksn"},
		{&Error{Reason: ReasonServiceError, Detail: DetailTooLarge, Status: 413}, exitcode.ServiceError,
			"service error: the server rejected the request as too large (HTTP 413)", "this ksn and the server may disagree on the API; update ksn"},
		{&Error{Reason: "something-new"}, exitcode.ServiceError, "something-new: unknown failure", "the server failed"},
	}
	for _, tt := range tests {
		t.Run(string(tt.e.Reason)+"/"+tt.e.Detail, func(t *testing.T) {
			if got := tt.e.ExitCode(); got != tt.exit {
				t.Errorf("ExitCode = %d, want %d", got, tt.exit)
			}
			if got := tt.e.Error(); !strings.HasPrefix(got, tt.text) {
				t.Errorf("Error() = %q, want prefix %q", got, tt.text)
			}
			if got := tt.e.Hint(); !strings.HasPrefix(got, tt.hint) {
				t.Errorf("Hint() = %q, want prefix %q", got, tt.hint)
			}
			xe := tt.e.ExitError()
			if xe.Code != tt.exit || xe.Hint != tt.e.Hint() || exitcode.Of(xe) != tt.exit || !errors.Is(xe, tt.e) {
				t.Errorf("ExitError = %+v", xe)
			}
		})
	}
}

func TestUnwrap(t *testing.T) {
	cause := errors.New("cause")
	e := &Error{Reason: ReasonOffline, Detail: DetailNetwork, Err: cause}
	if !errors.Is(e, cause) {
		t.Error("errors.Is does not reach the cause")
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"  spaced\t\r\n out  ", "spaced out"},
		{"\x1b]0;title\x07evil", `\x1b]0;title\x07evil`},
		{"bidi \u202eexe.txt", `bidi \u202eexe.txt`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"bad \xff utf8", `bad \xff utf8`},
		{strings.Repeat("é", 250), strings.Repeat("é", maxMessage-1) + "…"},
		{strings.Repeat("a ", 150), strings.Repeat("a ", 99) + "a…"},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in, maxMessage); got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{300 * time.Millisecond, "300ms"},
		{time.Second, "1s"},
		{30 * time.Second, "30s"},
		{time.Minute, "1m"},
		{90 * time.Second, "1m30s"},
		{time.Hour, "1h"},
		{time.Hour + time.Minute, "1h1m"},
		{1500 * time.Millisecond, "1.5s"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestProblemType(t *testing.T) {
	for in, want := range map[string]string{
		"license-expired":                         "license-expired",
		"/problems/license-expired":               "license-expired",
		"https://ksn.example/problems/restricted": "restricted",
		"urn:ksn:problem:Restricted":              "restricted",
		"":                                        "",
	} {
		if got := problemType(in); got != want {
			t.Errorf("problemType(%q) = %q, want %q", in, got, want)
		}
	}
}
