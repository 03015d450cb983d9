// Package client is the HTTP client of ksn's reputation API (pkg/api,
// DESIGN §6). Every failure it returns is an *Error that names a Reason
// (and so an exit code), a Detail and a Hint the user can act on; the one
// exception is the caller's own context being cancelled or expiring,
// which is returned as ctx.Err().
//
// The client never retries on its own, not even after a 429 or a 503
// carrying Retry-After: it reports the wait in Error.RetryAfter and the
// caller decides, so that many clients never turn one overload into a
// retry storm. It never logs, and it sends nothing but the request it is
// given (plus the license key, the User-Agent and standard HTTP headers).
// It does not follow redirects, so the license key goes only to the
// endpoint configured.
//
// It may import api, exitcode and reputation; it knows nothing of consent,
// the terminal or any database.
package client
