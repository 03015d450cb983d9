package feeds

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Open opens a feed file, transparently decompressing gzip (.gz or gzip
// magic) and a .zip holding exactly one file (MalwareBazaar publishes its
// full dump as full.csv.zip), and resolves Auto by Detect, looking at the
// inner file's name and text. The returned ReadCloser yields the plain feed
// text; closing it closes the file.
//
// Plain and gzip feeds are read as streams, so a named pipe works
// (`ksn feed import <(curl ...)`); a zip needs a regular file because its
// directory is at the end.
func Open(path string, f Format) (io.ReadCloser, Format, error) {
	if f != Auto && !isConcrete(f) {
		return nil, "", fmt.Errorf("unknown feed format %q (known: auto, %s)", f, formatList())
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	rc, name, err := decompress(file, path)
	if err != nil {
		file.Close()
		return nil, "", err
	}
	if f != Auto {
		return rc, f, nil
	}
	br := bufio.NewReaderSize(rc, sniffLimit)
	head, err := br.Peek(sniffLimit)
	if err != nil && err != io.EOF {
		rc.Close()
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	f, err = Detect(name, head)
	if err != nil {
		rc.Close()
		return nil, "", err
	}
	return readCloser{Reader: br, closers: rc.closers}, f, nil
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zipMagic  = []byte("PK\x03\x04")
	zipEmpty  = []byte("PK\x05\x06") // end of central directory: an archive with no entries
)

// decompress returns the plain text of file and the name Detect should see
// for it: the path without ".gz", or the zip member's name. The content
// decides over the extension, so a gzip feed saved without ".gz" still
// works; an extension that promises compression the content lacks is an
// error rather than a silent plain read.
func decompress(file *os.File, path string) (readCloser, string, error) {
	st, err := file.Stat()
	if err != nil {
		return readCloser{}, "", err
	}
	if st.IsDir() {
		return readCloser{}, "", fmt.Errorf("%s: is a directory, not a feed file", path)
	}
	br := bufio.NewReader(file)
	magic, _ := br.Peek(4) // a short or failing read shows up on the first real read
	ext := strings.ToLower(filepath.Ext(path))

	switch {
	case bytes.HasPrefix(magic, zipMagic), bytes.HasPrefix(magic, zipEmpty), ext == ".zip":
		if !st.Mode().IsRegular() {
			return readCloser{}, "", fmt.Errorf("%s: a zip archive must be a regular file (its index is at the end); unzip it first", path)
		}
		return openZipMember(file, st.Size(), path)
	case bytes.HasPrefix(magic, gzipMagic), ext == ".gz":
		gz, err := gzip.NewReader(br)
		if err != nil {
			if err == io.EOF {
				err = errors.New("empty file")
			}
			return readCloser{}, "", fmt.Errorf("%s: not readable as gzip: %w", path, err)
		}
		name := path
		if ext == ".gz" {
			name = strings.TrimSuffix(path, filepath.Ext(path))
		}
		if filepath.Ext(name) == "" && gz.Name != "" {
			// The name stored in the gzip header is only a hint for
			// detection; it never becomes a path.
			name = filepath.Base(gz.Name)
		}
		return readCloser{Reader: gz, closers: []io.Closer{gz, file}}, name, nil
	}
	return readCloser{Reader: br, closers: []io.Closer{file}}, path, nil
}

func openZipMember(file *os.File, size int64, path string) (readCloser, string, error) {
	zr, err := zip.NewReader(file, size)
	if err != nil {
		return readCloser{}, "", fmt.Errorf("%s: not readable as zip: %w", path, err)
	}
	var members []*zip.File
	for _, m := range zr.File {
		if !m.FileInfo().IsDir() {
			members = append(members, m)
		}
	}
	switch len(members) {
	case 1:
	case 0:
		return readCloser{}, "", fmt.Errorf("%s: the zip archive holds no file", path)
	default:
		names := make([]string, 0, 3)
		for _, m := range members[:min(3, len(members))] {
			names = append(names, displayName(m.Name))
		}
		more := ""
		if len(members) > 3 {
			more = ", …"
		}
		return readCloser{}, "", fmt.Errorf("%s: the zip archive holds %d files (%s%s), want exactly one feed; extract the one to import",
			path, len(members), strings.Join(names, ", "), more)
	}
	m := members[0]
	if m.Flags&0x1 != 0 {
		return readCloser{}, "", fmt.Errorf("%s: %s is encrypted in the zip archive; extract it first (MalwareBazaar sample archives use the password \"infected\")", path, displayName(m.Name))
	}
	rc, err := m.Open()
	if err != nil {
		return readCloser{}, "", fmt.Errorf("%s: %s: %w", path, displayName(m.Name), err)
	}
	return readCloser{Reader: rc, closers: []io.Closer{rc, file}}, m.Name, nil
}

// readCloser reads from the innermost decompressor and closes every layer,
// innermost first.
type readCloser struct {
	io.Reader
	closers []io.Closer
}

func (r readCloser) Close() error {
	var first error
	for _, c := range r.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
