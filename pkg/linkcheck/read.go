package linkcheck

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// MaxLinkLength bounds one link read from a stream: real links are far
// shorter, and a stream without newlines must not be buffered whole.
const MaxLinkLength = 64 << 10

// CheckInputs refuses inputs that name standard input ("-") more than
// once: it can be read only once.
func CheckInputs(inputs []string) error {
	if i := slices.Index(inputs, "-"); i >= 0 && slices.Contains(inputs[i+1:], "-") {
		return &exitcode.Error{Code: exitcode.Usage, Err: errors.New("'-' (standard input) may be given once")}
	}
	return nil
}

// Read canonicalises every input and hands it to emit, reading "-" from
// stdin one link a line (blank lines and lines starting with '#' are
// skipped; a line longer than MaxLinkLength is an input error of its own,
// and the lines after it are still read).
func Read(inputs []string, stdin io.Reader, emit func(Link) error) error {
	add := func(raw string) error {
		l := Link{Input: raw}
		l.Canonical, l.Err = urlcanon.Canonicalize(raw)
		if l.Err == nil {
			l.Lookup = l.Canonical.Lookup()
		} else {
			l.Err = errors.New(strings.TrimPrefix(l.Err.Error(), "urlcanon: "))
		}
		return emit(l)
	}
	for _, a := range inputs {
		if a != "-" {
			if err := add(a); err != nil {
				return err
			}
			continue
		}
		r := bufio.NewReaderSize(stdin, 64<<10)
		for n := 1; ; n++ {
			line, tooLong, err := readLine(r, MaxLinkLength)
			if err == io.EOF {
				break
			}
			if err != nil {
				return &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("reading links from standard input: %w", err)}
			}
			if tooLong {
				l := Link{Input: fmt.Sprintf("(line %d)", n), Err: fmt.Errorf("longer than %d KiB: not a link ksn checks", MaxLinkLength>>10)}
				if err := emit(l); err != nil {
					return err
				}
				continue
			}
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if err := add(line); err != nil {
				return err
			}
		}
	}
	return nil
}

// readLine reads one line without its terminator, holding at most max
// bytes of it: a longer line is read to its end, discarded and reported.
func readLine(r *bufio.Reader, max int) (line string, tooLong bool, err error) {
	var b []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(b)+len(chunk) > max+2 { // room for "\r\n"
			tooLong, b = true, b[:0]
		} else if !tooLong {
			b = append(b, chunk...)
		}
		switch err {
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(b) == 0 && !tooLong {
				return "", false, io.EOF
			}
		case nil:
		default:
			return "", false, err
		}
		break
	}
	if tooLong {
		return "", true, nil
	}
	return strings.TrimRight(string(b), "\r\n"), false, nil
}
