package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"strconv"
	"strings"

	"github.com/ksnproject/ksn/pkg/untrusted"
)

// header is what the walker needs of a header: net/mail's and
// net/textproto's both have it.
type header interface{ Get(key string) string }

// walker walks one message.
type walker struct {
	lim     Limits
	fn      PartFunc
	budget  budget
	parts   int
	body    *bodyText
	res     *Result
	stopped bool // the rest of the message is skipped
}

// Walk reads the message's body: it hands each attachment and picture to
// fn, collects the body texts' digest and links, and returns what it
// learnt. Walk reads the message once; a second call returns a Result
// whose Err says so. A malformed part or one over a limit is a Problem,
// never a panic: the parts before it have been handed to fn, and the
// parts after it still are unless the limit was for the whole message.
func (m *Message) Walk(fn PartFunc) *Result {
	if m.walked {
		return &Result{Err: errors.New("mail: message walked twice")}
	}
	m.walked = true
	w := &walker{lim: m.lim, fn: fn, budget: budget{left: m.lim.DecodedBytes}, body: newBodyText(m.lim.Links), res: &Result{}}
	w.entity(m.Header, m.body, nil, 0, "text/plain", true)
	w.res.BodySHA256 = w.body.digest()
	w.res.Links, w.res.LinksDropped = w.body.links.links, w.body.links.dropped
	return w.res
}

func (w *walker) problem(e *Error) { w.res.Problems = append(w.res.Problems, e) }

// stop skips the rest of the message for the reason e.
func (w *walker) stop(e *Error) {
	w.problem(e)
	w.stopped = true
}

// entity walks one MIME entity: a message or a part, with header h and
// raw (not yet transfer-decoded) body. path is the names of the attached
// messages around it, depth the containers, defType the media type when
// h has none (text/plain, or message/rfc822 in a multipart/digest).
func (w *walker) entity(h header, raw io.Reader, path []string, depth int, defType string, root bool) {
	if w.stopped {
		return
	}
	w.parts++
	if w.parts > w.lim.Parts {
		w.stop(newError(path, ErrTooManyParts, "more than %d; the rest of the message is skipped", w.lim.Parts))
		return
	}
	name, attachment := w.nameOf(h)
	here := append(path[:len(path):len(path)], name)
	if name == "" {
		here[len(here)-1] = "part " + strconv.Itoa(w.parts)
		if root {
			here = path // the message itself: what is wrong is the message's
		}
	}
	if depth > w.lim.Depth {
		w.problem(newError(here, ErrTooDeep, "more than %d containers deep; skipped with what it holds", w.lim.Depth))
		return
	}
	mediaType, params := w.typeOf(h, defType, here)
	cte := h.Get("Content-Transfer-Encoding")
	switch {
	case strings.HasPrefix(mediaType, "multipart/") && params["boundary"] != "":
		w.multipart(newDecoder(raw, cte, nil), params["boundary"], mediaType, path, depth, here)
	case mediaType == "message/rfc822" || mediaType == "message/global":
		w.attached(newDecoder(raw, cte, nil), path, here, depth)
	case (mediaType == "text/plain" || mediaType == "text/html") && !attachment:
		w.text(newDecoder(raw, cte, &w.budget), charsetOf(params["charset"]), mediaType == "text/html", here)
	default:
		if strings.HasPrefix(mediaType, "multipart/") {
			w.problem(newError(here, ErrMalformed, "%s without a boundary: checked as one part", mediaType))
			mediaType = "application/octet-stream"
		}
		if name == "" {
			name = "part " + strconv.Itoa(w.parts)
			here = append(path[:len(path):len(path)], name)
		}
		w.leaf(newDecoder(raw, cte, &w.budget), name, here, mediaType, depth)
	}
}

// multipart walks the parts of a multipart body.
func (w *walker) multipart(body *decoder, boundary, mediaType string, path []string, depth int, here []string) {
	defType := "text/plain"
	if mediaType == "multipart/digest" {
		defType = "message/rfc822"
	}
	mr := multipart.NewReader(body, boundary)
	for i := 0; !w.stopped; i++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			w.partsError(err, i, here)
			break
		}
		w.entity(p.Header, p, path, depth+1, defType, false)
	}
	if body.damage != nil {
		w.problem(newError(here, body.damage, ""))
	}
}

// partsError reports why the next part of a multipart could not be read.
func (w *walker) partsError(err error, i int, here []string) {
	var re *readError
	switch {
	case errors.As(err, &re):
		w.res.Err, w.stopped = re.err, true
	case errors.Is(err, ErrTooLarge):
		// The part that crossed the limit has said so.
	case i == 0:
		w.problem(newError(here, ErrMalformed, "no part found: the boundary is not in the body"))
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		// The body ended before the closing boundary. When the last part
		// was a leaf or a text, its reader saw the end and said so.
		if p := w.res.Problems; len(p) == 0 || !errors.Is(p[len(p)-1], ErrMissingBoundary) {
			w.problem(newError(here, ErrMissingBoundary, "the message ends before it"))
		}
	default:
		w.problem(newError(here, ErrMalformed, "cannot read the next part: %s; the rest is skipped", untrusted.Text(err.Error(), 120)))
	}
}

// attached walks an attached message (message/rfc822).
func (w *walker) attached(body *decoder, path, here []string, depth int) {
	h, inner, err := readHeader(body, w.lim.HeaderBytes, here)
	var e *Error
	switch {
	case errors.As(err, &e):
		w.problem(e)
		return
	case err != nil:
		w.read(err)
		return
	}
	w.entity(h, inner, here, depth+1, "text/plain", false)
	if body.damage != nil {
		w.problem(newError(here, body.damage, ""))
	}
}

// read records an error reading the part's bytes: the limit, or the
// file's.
func (w *walker) read(err error) {
	var re *readError
	switch {
	case errors.As(err, &re):
		w.res.Err, w.stopped = re.err, true
	case errors.Is(err, ErrTooLarge):
		w.stopped = true
	default:
		w.res.Err, w.stopped = err, true
	}
}

// text feeds a body text to the normaliser and the link scanners.
func (w *walker) text(dec *decoder, cs charset, html bool, here []string) {
	sink := w.body.part(cs, html)
	_, err := io.Copy(sink, dec)
	sink.Close()
	w.damaged(dec, here)
	if err != nil {
		w.read(err)
	}
}

// damaged reports a part's damage, or its crossing the limit.
func (w *walker) damaged(dec *decoder, here []string) *Error {
	var e *Error
	switch {
	case dec.err != nil:
		e = newError(here, ErrTooLarge, "over %d decoded bytes in the message; this part and the rest are skipped", w.lim.DecodedBytes)
	case dec.damage != nil:
		e = &Error{Path: Join(here...), Err: dec.damage}
	default:
		return nil
	}
	w.problem(e)
	return e
}

// partBody is a Part's Body: the decoded bytes, hashed as they pass.
type partBody struct {
	dec    *decoder
	h      hash.Hash
	closed bool
}

func (b *partBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errors.New("mail: part read after its PartFunc returned")
	}
	n, err := b.dec.Read(p)
	b.h.Write(p[:n])
	return n, err
}

// leaf hands an attachment or picture to fn and records it.
func (w *walker) leaf(dec *decoder, name string, here []string, mediaType string, depth int) {
	body := &partBody{dec: dec, h: sha256.New()}
	p := &Part{Name: name, Path: here, ContentType: mediaType, Depth: depth,
		Picture: strings.HasPrefix(mediaType, "image/"), Body: body, dec: dec}
	var readErr error // the file's
	switch err := w.fn(p); {
	case err == nil:
		if _, err := io.Copy(io.Discard, body); isReadError(err) {
			readErr = err
		}
	case errors.Is(err, ErrTooLarge):
	case isReadError(err):
		readErr = err
	default:
		w.res.Err, w.stopped = err, true
	}
	body.closed = true
	r := PartResult{Name: name, Path: here, ContentType: mediaType, Depth: depth, Picture: p.Picture, Size: dec.n}
	if e := w.damaged(dec, here); e != nil {
		r.Err = e
	}
	if dec.err == nil && readErr == nil && !w.stopped {
		r.SHA256 = hex.EncodeToString(body.h.Sum(nil))
	}
	w.res.Parts = append(w.res.Parts, r)
	switch {
	case readErr != nil:
		w.read(readErr)
	case dec.err != nil:
		w.stopped = true
	}
}

// nameOf returns the part's file name (Content-Disposition's filename,
// else Content-Type's name; RFC 2231 and RFC 2047 decoded; sanitised) and
// whether it is an attachment: it has a file name or is said to be one.
func (w *walker) nameOf(h header) (string, bool) {
	cd := h.Get("Content-Disposition")
	disp, dparams, err := mime.ParseMediaType(cd)
	if err != nil && disp == "" {
		disp = strings.ToLower(strings.TrimSpace(strings.SplitN(cd, ";", 2)[0]))
	}
	name := dparams["filename"]
	if name == "" {
		_, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
		name = params["name"]
	}
	if dec, err := words.DecodeHeader(name); err == nil {
		name = dec
	}
	name = displayName(name)
	return name, name != "" || disp == "attachment"
}

// typeOf returns the media type and parameters from Content-Type: the
// default when there is none; application/octet-stream, and a problem,
// when it cannot be read, so that such a part is checked as an attachment.
func (w *walker) typeOf(h header, defType string, here []string) (string, map[string]string) {
	ct := h.Get("Content-Type")
	if strings.TrimSpace(ct) == "" {
		return defType, nil
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if mediaType == "" {
		w.problem(newError(here, ErrMalformed, "Content-Type %q: checked as application/octet-stream", untrusted.Text(ct, 80)))
		return "application/octet-stream", nil
	}
	if err != nil {
		params = nil // mime.ErrInvalidMediaParameter: the type is good, the parameters not
	}
	return mediaType, params
}

// words decodes RFC 2047 encoded words in names: utf-8, us-ascii and
// iso-8859-1 by the standard library, windows-1252 here; another charset
// leaves the name as it is written.
var words = mime.WordDecoder{CharsetReader: func(cs string, r io.Reader) (io.Reader, error) {
	if charsetOf(cs) != charset1252 {
		return nil, fmt.Errorf("charset %q not converted", cs)
	}
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	return strings.NewReader(decode1252(b)), err
}}
