package mail

import (
	"errors"
	"fmt"
)

// Limits bound the work one message may cause. A field left zero takes
// its default (DefaultLimits). Crossing a limit is never fatal to the rest
// of an mbox: the message gets a *Error saying what was skipped and why.
type Limits struct {
	// HeaderBytes bounds a message's header block (and an attached
	// message's): a larger one refuses the message without reading on.
	HeaderBytes int64
	// Depth bounds nesting: multiparts and attached messages inside each
	// other. Deeper parts are skipped.
	Depth int
	// Parts bounds the parts of one message, counted in tree order; the
	// rest are skipped.
	Parts int
	// DecodedBytes bounds the decoded bytes of one message, text and
	// attachments together: the part that crosses it, and every part after
	// it, are skipped.
	DecodedBytes int64
	// Links bounds the distinct links kept from one message's text.
	Links int
}

// DefaultLimits are generous for real mail, which servers cap at tens of
// MiB, and small enough that a hostile message costs seconds, not hours.
var DefaultLimits = Limits{
	HeaderBytes:  1 << 20,
	Depth:        32,
	Parts:        10000,
	DecodedBytes: 512 << 20,
	Links:        1000,
}

// withDefaults fills the zero fields of l.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.HeaderBytes > 0 {
		d.HeaderBytes = l.HeaderBytes
	}
	if l.Depth > 0 {
		d.Depth = l.Depth
	}
	if l.Parts > 0 {
		d.Parts = l.Parts
	}
	if l.DecodedBytes > 0 {
		d.DecodedBytes = l.DecodedBytes
	}
	if l.Links > 0 {
		d.Links = l.Links
	}
	return d
}

// The reasons a message or a part is damaged or skipped. Each *Error wraps
// one of them, so that callers can tell them apart with errors.Is and give
// each a stable code (Error.Code).
var (
	// ErrHeaderTooLarge: the header block is over Limits.HeaderBytes; the
	// message (or attached message) is refused.
	ErrHeaderTooLarge = errors.New("header block too large")
	// ErrMalformed: a header, a Content-Type or a multipart body that cannot
	// be parsed.
	ErrMalformed = errors.New("malformed")
	// ErrTruncatedBase64: base64 that ends in the middle of a group; what
	// decoded is kept.
	ErrTruncatedBase64 = errors.New("truncated base64")
	// ErrMissingBoundary: a multipart without its closing boundary; the
	// last part is kept as far as it goes.
	ErrMissingBoundary = errors.New("missing closing boundary")
	// ErrTooDeep: nesting over Limits.Depth.
	ErrTooDeep = errors.New("nested too deep")
	// ErrTooManyParts: more parts than Limits.Parts.
	ErrTooManyParts = errors.New("too many parts")
	// ErrTooLarge: more decoded bytes than Limits.DecodedBytes.
	ErrTooLarge = errors.New("too large")
	// ErrEncoding: a Content-Transfer-Encoding this package does not
	// decode; the bytes are checked as they were sent.
	ErrEncoding = errors.New("unknown transfer encoding")
)

// codes are the stable names of the reasons, for JSON output.
var codes = []struct {
	err  error
	code string
}{
	{ErrHeaderTooLarge, "header-too-large"},
	{ErrMalformed, "malformed"},
	{ErrTruncatedBase64, "truncated-base64"},
	{ErrMissingBoundary, "missing-boundary"},
	{ErrTooDeep, "too-deep"},
	{ErrTooManyParts, "too-many-parts"},
	{ErrTooLarge, "too-large"},
	{ErrEncoding, "unknown-encoding"},
}

// Error is one thing wrong with a message. Path names the part (the names
// below the message, as Join would show them; empty for the message
// itself), Err is one of the Err... reasons, Detail says more in words.
// Detail may quote the message (sanitised and cut short): it is for the
// user, never for a record.
type Error struct {
	Path   string
	Err    error
	Detail string
}

// Error reads "path: reason: detail".
func (e *Error) Error() string {
	s := e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Path != "" {
		s = e.Path + ": " + s
	}
	return s
}

// Unwrap gives the reason, for errors.Is.
func (e *Error) Unwrap() error { return e.Err }

// Code is the reason's stable name (header-too-large, malformed,
// truncated-base64, missing-boundary, too-deep, too-many-parts, too-large,
// unknown-encoding).
func (e *Error) Code() string {
	for _, c := range codes {
		if errors.Is(e.Err, c.err) {
			return c.code
		}
	}
	return "error"
}

func newError(path []string, reason error, format string, args ...any) *Error {
	return &Error{Path: Join(path...), Err: reason, Detail: fmt.Sprintf(format, args...)}
}
