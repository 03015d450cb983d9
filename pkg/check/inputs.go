package check

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"

	"github.com/ksnproject/ksn/pkg/exitcode"
)

// Paths yields the inputs of a run in order; an error ends the run after
// the inputs before it.
type Paths = iter.Seq2[string, error]

// Args yields the paths given on the command line.
func Args(args []string) Paths {
	return func(yield func(string, error) bool) {
		for _, p := range args {
			if !yield(p, nil) {
				return
			}
		}
	}
}

// List yields args, then the entries of list: NUL-terminated when null,
// else one a line (blank lines and a trailing CR skipped). The list is
// read as the run goes, so a huge list is never held whole; a read error
// or an entry over 1 MiB is a usage error naming --files-from.
func List(args []string, list io.Reader, null bool) Paths {
	sep := byte('\n')
	if null {
		sep = 0
	}
	return func(yield func(string, error) bool) {
		for p := range Args(args) {
			if !yield(p, nil) {
				return
			}
		}
		sc := bufio.NewScanner(list)
		sc.Buffer(make([]byte, 64<<10), 1<<20) // PATH_MAX is 4096; 1 MiB is generous
		sc.Split(splitOn(sep))
		for sc.Scan() {
			p := sc.Text()
			if sep == '\n' {
				p = strings.TrimSuffix(p, "\r")
				if p == "" {
					continue // blank lines in a hand-written list
				}
			}
			if !yield(p, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield("", &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("--files-from: %w", err)})
		}
	}
}

// splitOn is a bufio.SplitFunc for records ending in sep; a last record
// without its separator still counts.
func splitOn(sep byte) bufio.SplitFunc {
	return func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, sep); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	}
}

// iterPaths treats nil as no inputs.
func iterPaths(p Paths) Paths {
	if p == nil {
		return Args(nil)
	}
	return p
}

// Inputs returns the paths of a check: args, then the entries of the
// list file filesFrom ("-": stdin; "": no list), NUL-separated when null;
// and what an input "-" reads: stdin, unless stdin holds the list (nil).
// The returned close releases the list file. Standard input cannot be
// both the list and an input.
func Inputs(args []string, filesFrom string, null bool, stdin io.Reader) (Paths, io.Reader, func(), error) {
	switch filesFrom {
	case "":
		return Args(args), stdin, func() {}, nil
	case "-":
		for _, p := range args {
			if p == "-" {
				return nil, nil, nil, &exitcode.Error{Code: exitcode.Usage, Hint: "read the file list from a file, or pass the data as a file",
					Err: errors.New("standard input cannot be both the --files-from list and an input")}
			}
		}
		return List(args, stdin, null), nil, func() {}, nil
	}
	f, err := os.Open(filesFrom)
	if err != nil {
		return nil, nil, nil, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("--files-from: %w", err)}
	}
	return List(args, f, null), stdin, func() { f.Close() }, nil
}
