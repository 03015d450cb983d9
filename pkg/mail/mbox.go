package mail

import (
	"bufio"
	"bytes"
	"io"
)

// Mbox reads the messages of an mbox (RFC 4155; mboxo, mboxrd) one after
// another, streaming: it holds one line, or 64 KiB of a longer one, never
// a message.
//
// A message starts after a separator line: "From " at the start of a
// line, followed by a time (hh:mm) somewhere on it, as every mbox writer's
// "From sender date" line has. The blank line before a separator, and the
// one at the end of the file, are the format's and not the message's. A
// body line ">From ", ">>From ", ... loses one ">" (mboxrd's quoting; in
// an mboxo file an original ">From " line comes out as "From ", which is
// the best either reading can do). Content before the first separator
// (a file that is one message, or whose first "From " line was lost) is
// message 1. CRLF line ends are kept as they are.
type Mbox struct {
	br       *bufio.Reader
	n        int
	cur      *MboxMessage
	pending  []byte // what to deliver next, a slice of br's buffer or of blankLF/blankCRLF
	queued   []byte // and after it
	held     []byte // a blank line held back until the next line shows whose it is
	atStart  bool   // the next read starts a line
	preamble bool   // before the first separator: blank lines are dropped
	ended    bool   // the current message has ended
	eof      bool   // the file has ended
	err      error  // a read error: the mbox ends with it
}

var (
	blankLF   = []byte("\n")
	blankCRLF = []byte("\r\n")
)

// mboxBuffer is the longest line Mbox treats as a line; a longer one is
// passed on in pieces (and so is never a separator).
const mboxBuffer = 64 << 10

// NewMbox reads the mbox in r.
func NewMbox(r io.Reader) *Mbox {
	return &Mbox{br: bufio.NewReaderSize(r, mboxBuffer), atStart: true, preamble: true}
}

// MboxMessage is one message of an mbox: a reader of its bytes, unquoted,
// from its first header line to its end. It is valid until the next call
// of Mbox.Next.
type MboxMessage struct {
	// Number counts the messages of the mbox from 1.
	Number int
	mb     *Mbox
}

// Next ends the current message (skipping what of it was not read) and
// returns the next one; io.EOF after the last. Another error is a read
// error of the underlying reader, after which there is no next message.
func (mb *Mbox) Next() (*MboxMessage, error) {
	if mb.cur != nil {
		for !mb.ended || len(mb.pending) > 0 {
			mb.pending, mb.queued = mb.queued, nil
			mb.fill()
		}
		mb.cur = nil
		if mb.err != nil {
			return nil, mb.err
		}
		if mb.eof {
			return nil, io.EOF
		}
	}
	mb.ended = false
	mb.fill()
	if mb.n == 0 && mb.ended && len(mb.pending) == 0 {
		// Nothing but blank lines: no message at all.
		if mb.err != nil {
			return nil, mb.err
		}
		return nil, io.EOF
	}
	mb.n++
	mb.cur = &MboxMessage{Number: mb.n, mb: mb}
	return mb.cur, nil
}

// Read reads the message's bytes; io.EOF at its end. A read error of the
// mbox is returned as it is.
func (m *MboxMessage) Read(p []byte) (int, error) {
	mb := m.mb
	if mb.cur != m {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) {
		if len(mb.pending) == 0 {
			mb.pending, mb.queued = mb.queued, nil
		}
		if len(mb.pending) == 0 {
			if mb.ended {
				break
			}
			mb.fill()
			continue
		}
		c := copy(p[n:], mb.pending)
		mb.pending = mb.pending[c:]
		n += c
	}
	if n == 0 {
		if mb.err != nil {
			return 0, mb.err
		}
		return 0, io.EOF
	}
	return n, nil
}

// fill reads lines until it has something to deliver or the message ends.
func (mb *Mbox) fill() {
	for len(mb.pending) == 0 && len(mb.queued) == 0 && !mb.ended {
		line, err := mb.br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull && err != io.EOF {
			mb.err, mb.ended, mb.eof = err, true, true
			return
		}
		if len(line) == 0 {
			mb.ended, mb.eof, mb.held = true, true, nil // the file's last blank line is the format's
			return
		}
		start := mb.atStart
		whole := err != bufio.ErrBufferFull
		mb.atStart = err == nil
		if start && whole {
			if blank := blankOf(line); blank != nil {
				if mb.preamble {
					continue
				}
				mb.pending, mb.held = mb.held, blank
				continue
			}
			if isSeparator(line) {
				mb.held = nil
				if mb.preamble {
					mb.preamble = false
					continue
				}
				mb.ended = true
				return
			}
		}
		mb.preamble = false
		if start {
			line = unquote(line)
		}
		if mb.held != nil {
			mb.pending, mb.queued, mb.held = mb.held, line, nil
		} else {
			mb.pending = line
		}
	}
}

// blankOf returns the constant for an empty line ("\n" or "\r\n"), or nil.
func blankOf(line []byte) []byte {
	switch {
	case len(line) == 1 && line[0] == '\n':
		return blankLF
	case len(line) == 2 && line[0] == '\r' && line[1] == '\n':
		return blankCRLF
	}
	return nil
}

// isSeparator reports whether a whole line is an mbox "From " line: the
// prefix, then a time (digit, colon, two digits) as in
// "From sender@example.com Thu Jan  4 10:00:00 2024". The time keeps a
// body line an unquoting writer let through ("From here on, ...") from
// splitting a message.
func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("From ")) {
		return false
	}
	for i := 6; i+2 < len(line); i++ {
		if line[i] == ':' && isDigit(line[i-1]) && isDigit(line[i+1]) && isDigit(line[i+2]) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// unquote removes one ">" from a line ">From ", ">>From ", ...
func unquote(line []byte) []byte {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	if i > 0 && bytes.HasPrefix(line[i:], []byte("From ")) {
		return line[1:]
	}
	return line
}
