package mail

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"
)

// budget is what is left of a message's Limits.DecodedBytes, shared by
// all its parts.
type budget struct{ left int64 }

// decoder turns a part's raw bytes into its decoded bytes, charging the
// message's budget and noting damage on the way. Damage (truncated base64,
// a missing closing boundary) does not stop the reading: what decoded is
// kept, and damage says what was wrong.
type decoder struct {
	r      io.Reader
	budget *budget
	n      int64
	damage error // the first damage seen
	err    error // why reading stopped early (the budget); sticky
}

// newDecoder decodes raw, sent with Content-Transfer-Encoding cte,
// charging b (nil for a container, whose parts are charged).
func newDecoder(raw io.Reader, cte string, b *budget) *decoder {
	d := &decoder{budget: b}
	raw = &boundaryReader{r: raw, d: d}
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		d.r = raw
	case "base64":
		d.r = base64.NewDecoder(base64.RawStdEncoding, &base64Filter{r: raw, d: d})
	case "quoted-printable":
		d.r = quotedprintable.NewReader(&qpFilter{r: raw})
	default:
		d.r = raw
		d.note(fmt.Errorf("%w %q: checked as sent", ErrEncoding, displayName(cte)))
	}
	return d
}

func (d *decoder) note(err error) {
	if d.damage == nil {
		d.damage = err
	}
}

// Read reads decoded bytes. Crossing the budget ends the part with an
// error wrapping ErrTooLarge; a decoding error of the standard library
// (which the filters below leave none of, but a future one might) is
// damage that ends the part like its end would.
func (d *decoder) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.r.Read(p)
	if d.budget != nil && int64(n) > d.budget.left {
		n = int(d.budget.left)
		d.err = fmt.Errorf("%w: more than the limit of decoded bytes for one message", ErrTooLarge)
		err = d.err
	}
	if d.budget != nil {
		d.budget.left -= int64(n)
	}
	d.n += int64(n)
	if err != nil && err != io.EOF && !errors.Is(err, ErrTooLarge) && !isReadError(err) {
		d.note(fmt.Errorf("%w: %v", ErrMalformed, err))
		err = io.EOF
	}
	return n, err
}

// readError marks an error of the underlying file (not of the mail in
// it), which must reach the caller as it is.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func isReadError(err error) bool {
	var re *readError
	return errors.As(err, &re)
}

// boundaryReader reads a part's raw bytes, turning a multipart's
// io.ErrUnexpectedEOF (the stream ended before the closing boundary) into
// the end of the part, noted as damage: the part is kept as far as it
// goes. Any other error is the file's.
type boundaryReader struct {
	r io.Reader
	d *decoder
}

func (b *boundaryReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	switch {
	case err == nil || err == io.EOF:
	case errors.Is(err, io.ErrUnexpectedEOF):
		b.d.note(fmt.Errorf("%w: the message ends inside this part", ErrMissingBoundary))
		err = io.EOF
	case !errors.Is(err, ErrTooLarge) && !isReadError(err):
		err = &readError{err}
	}
	return n, err
}

// base64Filter passes on the base64 alphabet only, in groups of four,
// and ends at the first "=": RFC 2045 says characters outside the
// alphabet are to be ignored, and padding ends the data. At the end, two
// or three characters left over still decode (to one or two bytes); the
// data is truncated, and noted so, when they are not followed by padding
// or when one is left over.
type base64Filter struct {
	r     io.Reader
	d     *decoder
	in    [4096]byte
	out   []byte // alphabet characters not yet passed on
	count int64  // alphabet characters seen
	done  bool
	err   error
}

func (f *base64Filter) Read(p []byte) (int, error) {
	for {
		if whole := len(f.out) &^ 3; whole > 0 || (f.done && len(f.out) > 0) {
			if !f.done {
				p = p[:min(len(p), whole)]
			} else if len(f.out) == 1 {
				f.out = f.out[:0] // six bits decode to nothing
				continue
			}
			n := copy(p, f.out)
			f.out = f.out[:copy(f.out, f.out[n:])]
			return n, nil
		}
		if f.done {
			return 0, f.err
		}
		n, err := f.r.Read(f.in[:])
		pad := false
		for _, c := range f.in[:n] {
			if c == '=' {
				pad = true
				break
			}
			if base64Alphabet[c] {
				f.out = append(f.out, c)
				f.count++
			}
		}
		if pad || err != nil {
			f.done = true
			f.err = err
			if pad || err == io.EOF {
				f.err = io.EOF
			}
			if rest := f.count % 4; rest == 1 || (rest != 0 && !pad) {
				f.d.note(fmt.Errorf("%w: %d characters, not a multiple of four", ErrTruncatedBase64, f.count))
			}
		}
	}
}

var base64Alphabet = func() (a [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" {
		a[c] = true
	}
	return a
}()

// qpFilter prepares quoted-printable for mime/quotedprintable, which stops
// at a control character and at a line longer than its 4 KiB buffer, both
// of which real mail has: a control character is written as its =XX
// escape and a long line is cut with soft line breaks ("=\n"), which
// decode to nothing. The decoded bytes are the same.
type qpFilter struct {
	r    io.Reader
	in   [2048]byte
	buf  []byte
	out  []byte
	col  int     // bytes written since the last line end
	last [2]byte // the last two bytes written
	err  error
}

// qpLine is where qpFilter cuts a line.
const qpLine = 1000

func (f *qpFilter) Read(p []byte) (int, error) {
	for len(f.out) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		n, err := f.r.Read(f.in[:])
		f.err = err
		f.buf = f.buf[:0]
		for _, c := range f.in[:n] {
			f.put(c)
		}
		f.out = f.buf
	}
	n := copy(p, f.out)
	f.out = f.out[n:]
	return n, nil
}

func (f *qpFilter) put(c byte) {
	if c != '\n' && f.col >= qpLine && f.last[0] != '=' && f.last[1] != '=' {
		f.emit('=')
		f.emit('\n')
	}
	if (c < ' ' && c != '\t' && c != '\r' && c != '\n') || c == 0x7f {
		const hex = "0123456789ABCDEF"
		f.emit('=')
		f.emit(hex[c>>4])
		f.emit(hex[c&15])
		return
	}
	f.emit(c)
}

func (f *qpFilter) emit(c byte) {
	f.buf = append(f.buf, c)
	f.last[0], f.last[1] = f.last[1], c
	if c == '\n' {
		f.col = 0
	} else {
		f.col++
	}
}
