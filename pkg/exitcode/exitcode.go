package exitcode

import (
	"errors"
	"fmt"
)

// Code is a process exit status with a documented meaning.
type Code int

// The exit codes, shared by every command (DESIGN §1).
const (
	OK             Code = 0 // success; nothing at or above --fail-on
	Threat         Code = 1 // at least one object at or above --fail-on
	Usage          Code = 2 // usage or input error
	NotParticipate Code = 3 // not participating
	Offline        Code = 4 // offline: no endpoint, DNS, refused, timeout, TLS
	LicenseBlocked Code = 5 // license not activated, expired or denylisted
	RateLimited    Code = 6 // the server asked us to wait
	ServiceError   Code = 7 // 5xx or protocol violation
)

// Table describes every code; `ksn help exit-codes` and the man page print it.
var Table = []struct {
	Code    Code
	Meaning string
}{
	{OK, "success: nothing at or above --fail-on was found; for status: connected"},
	{Threat, "threat: at least one object at or above --fail-on (default malicious)"},
	{Usage, "usage or input error: bad flag, unreadable path, malformed input"},
	{NotParticipate, "not participating: never asked, declined, or the statement changed"},
	{Offline, "offline: no endpoint, DNS failure, connection refused, timeout, TLS"},
	{LicenseBlocked, "license blocked: not activated, expired or denylisted"},
	{RateLimited, "rate-limited: the server asked to wait (the wait is printed)"},
	{ServiceError, "service error: the server failed or broke the protocol"},
}

// Name is the machine-readable name of a code, as JSON errors carry it:
// "ok", "threat", "usage", "not-participating", "offline",
// "license-blocked", "rate-limited", "service-error".
func Name(c Code) string {
	switch c {
	case OK:
		return "ok"
	case Threat:
		return "threat"
	case Usage:
		return "usage"
	case NotParticipate:
		return "not-participating"
	case Offline:
		return "offline"
	case LicenseBlocked:
		return "license-blocked"
	case RateLimited:
		return "rate-limited"
	case ServiceError:
		return "service-error"
	}
	return fmt.Sprintf("exit-%d", int(c))
}

// Error is an error that decides the exit code. Hint, when set, is printed
// on its own line after the message and names the command that fixes it.
type Error struct {
	Code   Code
	Err    error
	Hint   string
	Silent bool // the command already reported; print nothing more
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error with a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// WithHint returns e with its hint set.
func (e *Error) WithHint(hint string) *Error { e.Hint = hint; return e }

// Silent returns an error that only sets the exit code: the command has
// already said everything (for example `check` found a threat).
func Silent(code Code) *Error { return &Error{Code: code, Silent: true} }

// Of returns the exit code an error maps to: the code of the first *Error
// in its chain, Usage for anything else, OK for nil.
func Of(err error) Code {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Usage
}
