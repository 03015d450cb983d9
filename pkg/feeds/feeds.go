package feeds

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ksnproject/ksn/pkg/reputation"
)

// Format names a feed layout. The string is what --format accepts.
type Format string

// The formats ksn reads. Auto is not a layout: it asks Open to Detect one.
const (
	Auto          Format = "auto"
	MalwareBazaar Format = "malwarebazaar"
	ClamAVHDB     Format = "clamav-hdb"
	ClamAVHSB     Format = "clamav-hsb"
	KnownGood     Format = "known-good"
	URLhaus       Format = "urlhaus"  // links: see ParseURLs
	URLList       Format = "url-list" // links: see ParseURLs
	// URLhausHostfile is a hosts file of blocked host names (links).
	URLhausHostfile Format = "urlhaus-hostfile"
	// ClamAVCVD is ClamAV's signed container (.cvd, .cld): read with
	// ImportCVD, not Parse.
	ClamAVCVD Format = "clamav-cvd"
)

// Formats lists the concrete formats, in the order help texts and error
// messages show them.
var Formats = []Format{MalwareBazaar, ClamAVHDB, ClamAVHSB, KnownGood, URLhaus, URLList, URLhausHostfile, ClamAVCVD}

// formatList is the human list used in errors that ask for --format.
func formatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// ParseFormat accepts a --format value, case-insensitively. "auto" is valid
// here because the flag defaults to it; Parse itself needs a concrete format.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if f == Auto || isConcrete(f) {
		return f, nil
	}
	return "", fmt.Errorf("unknown feed format %q (known: auto, %s)", s, formatList())
}

func isConcrete(f Format) bool {
	switch f {
	case MalwareBazaar, ClamAVHDB, ClamAVHSB, KnownGood, URLhaus, URLList, URLhausHostfile, ClamAVCVD:
		return true
	}
	return false
}

// MaxReportedErrors bounds Summary.Errors: a feed of a million bad lines
// (the wrong --format, say) must not hold a million errors in memory, and a
// user only needs the first few to see what is wrong.
const MaxReportedErrors = 5

// maxLineLength is the longest line Parse accepts. Real feed lines are well
// under a kilobyte; the limit exists so a corrupt or hostile file cannot make
// ksn buffer an unbounded line.
const maxLineLength = 1 << 20

// LineError is one rejected feed line. Line counts from 1, over every line
// of the plain feed text, comments included, so it matches what an editor
// shows.
type LineError struct {
	Line int
	Err  error
}

// Error formats the rejection the way compilers do, so editors can jump to it.
func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap lets callers test the reason with errors.Is.
func (e LineError) Unwrap() error { return e.Err }

// Summary says what Parse read, so `ksn feed import` can report it and a
// script can tell a clean import from one that skipped lines.
type Summary struct {
	Format     Format
	Lines      int         // lines read, comments included
	Indicators int         // indicators emit accepted
	Malformed  int         // lines rejected
	Errors     []LineError // the first MaxReportedErrors rejected lines
}

func (s *Summary) reject(line int, err error) {
	s.Malformed++
	if len(s.Errors) < MaxReportedErrors {
		s.Errors = append(s.Errors, LineError{Line: line, Err: err})
	}
}

// lineParser turns one line (terminator and surrounding space removed) into
// at most one indicator. ok is false for lines that carry none (comments,
// blank lines, headers); err is set for malformed lines.
type lineParser interface {
	parseLine(line string) (ind reputation.FileIndicator, ok bool, err error)
}

func newLineParser(f Format) (lineParser, error) {
	switch f {
	case MalwareBazaar:
		return newMalwareBazaarParser(), nil
	case ClamAVHDB:
		return clamavParser{hsb: false}, nil
	case ClamAVHSB:
		return clamavParser{hsb: true}, nil
	case KnownGood:
		return knownGoodParser{}, nil
	case ClamAVCVD:
		return nil, errors.New("feeds: a ClamAV container holds several databases; read it with ImportCVD")
	case Auto:
		return nil, errors.New("feeds: Parse needs a concrete format; resolve auto with Open or Detect first")
	}
	return nil, fmt.Errorf("feeds: unknown format %q (known: %s)", f, formatList())
}

// Parse streams r; calls emit once per indicator; a malformed line is
// counted and skipped, the rest still parses; an error returned by emit
// stops parsing and is returned unchanged; an I/O error is returned. Lines
// may be arbitrarily long without unbounded memory: lines over 1 MiB are
// rejected as malformed rather than failing the whole feed.
//
// A nil emit only counts, which is what a dry run needs. Indicators counts
// the indicators emit accepted, so after an emit error it excludes the one
// that failed. The Summary is valid whatever the error.
func Parse(r io.Reader, f Format, emit func(reputation.FileIndicator) error) (Summary, error) {
	if IsURLFormat(f) {
		return Summary{Format: f}, fmt.Errorf("feeds: %s lists links; read it with ParseURLs", f)
	}
	p, err := newLineParser(f)
	if err != nil {
		return Summary{Format: f}, err
	}
	return parseLines(r, f, p.parseLine, emit)
}

// parseLines is the loop of Parse and ParseURLs: it reads lines with
// bounded memory, hands each to parse, counts what is malformed and emits
// the rest.
func parseLines[T any](r io.Reader, f Format, parse func(string) (T, bool, error), emit func(T) error) (Summary, error) {
	sum := Summary{Format: f}
	lr := newLineReader(r)
	for {
		raw, tooLong, err := lr.next()
		if err == io.EOF {
			return sum, nil
		}
		if err != nil {
			return sum, fmt.Errorf("reading %s feed after line %d: %w", f, sum.Lines, err)
		}
		sum.Lines++
		if tooLong {
			sum.reject(sum.Lines, fmt.Errorf("%w (limit %d bytes)", errLineTooLong, maxLineLength))
			continue
		}
		if sum.Lines == 1 {
			raw = bytes.TrimPrefix(raw, utf8BOM)
		}
		ind, ok, err := parse(strings.TrimSpace(string(raw)))
		if err != nil {
			sum.reject(sum.Lines, err)
			continue
		}
		if !ok {
			continue
		}
		if emit != nil {
			if err := emit(ind); err != nil {
				return sum, err
			}
		}
		sum.Indicators++
	}
}

// utf8BOM starts files that Windows tools export as "UTF-8"; it is not part
// of the first field.
var utf8BOM = []byte("\xef\xbb\xbf")

// lineReader splits a stream into lines with memory bounded by
// maxLineLength, however long a line in the input is.
type lineReader struct {
	r   *bufio.Reader
	buf []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line without its "\n" or "\r\n". A line longer than
// maxLineLength comes back empty with tooLong set, having been read and
// discarded. A final line without a terminator is still a line. The returned
// slice is valid until the next call.
func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	lr.buf = lr.buf[:0]
	seen := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if len(chunk) > 0 {
			seen = true
		}
		if !tooLong {
			// +2 leaves room for the "\r\n" that is not part of the line.
			if len(lr.buf)+len(chunk) > maxLineLength+2 {
				tooLong = true
				lr.buf = lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch err {
		case nil:
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if !seen {
				return nil, false, io.EOF
			}
		default:
			return nil, false, err
		}
		break
	}
	if tooLong {
		return nil, true, nil
	}
	line = bytes.TrimSuffix(lr.buf, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > maxLineLength {
		return nil, true, nil
	}
	return line, false, nil
}
