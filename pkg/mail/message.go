package mail

import (
	"errors"
	"io"
	"net/mail"
	"strings"

	"github.com/ksnproject/ksn/pkg/untrusted"
)

// Message is a message whose header has been read: Walk reads the rest.
type Message struct {
	// ID is the Message-ID as the message gives it (with its angle
	// brackets), sanitised for printing and cut to 255 characters; "" when
	// the message has none.
	ID string
	// Header is the header (net/mail), for the fields this package does
	// not interpret. Its values are the sender's: sanitise before printing.
	Header mail.Header

	body   io.Reader
	lim    Limits
	walked bool
}

// ReadMessage reads a message's header from r, at most
// Limits.HeaderBytes of it (zero limits are the defaults). A header block
// over the limit, or one that is not a header, is a *Error (ErrHeaderTooLarge,
// ErrMalformed): the message cannot be walked, and a caller reading an
// mbox goes on with the next one. Any other error is r's.
func ReadMessage(r io.Reader, lim Limits) (*Message, error) {
	lim = lim.withDefaults()
	h, body, err := readHeader(r, lim.HeaderBytes, nil)
	if err != nil {
		return nil, err
	}
	id := strings.TrimSpace(h.Get("Message-Id"))
	return &Message{ID: untrusted.Text(id, nameLen), Header: h, body: body, lim: lim}, nil
}

// headerLimit lets a header parser read at most left bytes while on; the
// body is read through it after it is turned off. A read error of the
// underlying reader is kept, to be told from a malformed header.
type headerLimit struct {
	r    io.Reader
	left int64
	on   bool
	hit  bool
	err  error
}

var errHeaderLimit = errors.New("header limit")

func (h *headerLimit) Read(p []byte) (int, error) {
	if !h.on {
		return h.r.Read(p)
	}
	if h.left <= 0 {
		h.hit = true
		return 0, errHeaderLimit
	}
	if int64(len(p)) > h.left {
		p = p[:h.left]
	}
	n, err := h.r.Read(p)
	h.left -= int64(n)
	if err != nil && err != io.EOF {
		h.err = err
	}
	return n, err
}

// readHeader reads a header block of at most max bytes from r with
// net/mail (whose own reader has no bound) and returns it and a reader of
// the body. path names the message for errors.
func readHeader(r io.Reader, max int64, path []string) (mail.Header, io.Reader, error) {
	hl := &headerLimit{r: r, left: max, on: true}
	msg, err := mail.ReadMessage(hl)
	hl.on = false
	switch {
	case err == nil:
		return msg.Header, msg.Body, nil
	case hl.hit:
		return nil, nil, newError(path, ErrHeaderTooLarge, "over %d bytes; the message is not read", max)
	case hl.err != nil && !errors.Is(hl.err, ErrTooLarge):
		return nil, nil, hl.err
	case errors.Is(err, io.EOF):
		return nil, nil, newError(path, ErrMalformed, "no header: the message is empty")
	}
	return nil, nil, newError(path, ErrMalformed, "header: %s", untrusted.Text(err.Error(), 120))
}

// PartFunc is called for each attachment and picture of a message, in the
// order they appear. It reads p.Body (typically into a hash); it need not
// read all of it. It must not keep p.Body: the walker reads the rest
// when it returns. An error it returns ends the walk (Result.Err), except
// the error p.Body gave it, which the walker already knows.
type PartFunc func(p *Part) error

// Part is one attachment or picture, as PartFunc sees it.
type Part struct {
	// Name is the file name the message gives the part (RFC 2231 and RFC
	// 2047 decoded, sanitised), or "part N" (N counts the message's parts
	// from 1, in tree order) when it gives none.
	Name string
	// Path is the names from the message down to the part: attached
	// messages' names, then Name ([forwarded.eml invoice.zip]). Join the
	// message's name and Path to show it.
	Path []string
	// ContentType is the media type, lower case, without parameters
	// ("application/octet-stream" when the message's is unreadable).
	ContentType string
	// Depth counts the containers around the part: multiparts and
	// attached messages (0 for a message that is one part).
	Depth int
	// Picture is true for image/* parts, inline or attached.
	Picture bool
	// Body reads the part's decoded bytes. It ends early, with an error
	// wrapping ErrTooLarge, when the message's decoded bytes cross
	// Limits.DecodedBytes; damage does not end it (see Err).
	Body io.Reader

	dec *decoder
}

// Err says what is wrong with the part's bytes so far; read Body to its
// end to know all. Damage (ErrTruncatedBase64, ErrMissingBoundary,
// ErrEncoding, ErrMalformed) means the bytes are what could be decoded;
// ErrTooLarge means they are incomplete.
func (p *Part) Err() error {
	if p.dec.err != nil {
		return p.dec.err
	}
	return p.dec.damage
}

// PartResult is what the walker learnt of one attachment or picture.
type PartResult struct {
	Name        string
	Path        []string
	ContentType string
	Depth       int
	Picture     bool
	// Size is the number of decoded bytes, all of them unless Err wraps
	// ErrTooLarge.
	Size int64
	// SHA256 is the lower-case hex SHA-256 of the decoded bytes, the same
	// whether or not PartFunc read them all; "" when they are incomplete
	// (ErrTooLarge).
	SHA256 string
	// Err is the part's *Error: damage, or why it is incomplete; nil when
	// it decoded cleanly.
	Err error
}

// Result is what Walk learnt of a message.
type Result struct {
	// Parts are the attachments and pictures in the order they appear,
	// including one whose reading failed.
	Parts []PartResult
	// BodySHA256 is the SHA-256 of the normalised body (see the package doc), in
	// lower-case hex; "" when the message has no body text.
	BodySHA256 string
	// Links are the http and https links in the body texts, each once, in
	// the order they first appear, as the message gives them: untrusted,
	// sanitise before printing.
	Links []string
	// LinksDropped counts the distinct links over Limits.Links.
	LinksDropped int
	// Problems are what was wrong with the message and what was skipped
	// because of it, each a *Error naming the part.
	Problems []*Error
	// Err is the error that ended the walk early: PartFunc's, or a read
	// error of the underlying file. Problems are not errors in this sense.
	Err error
}
