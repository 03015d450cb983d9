package feeds

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
)

// Database is where feeds are imported: the local reputation database or
// a server's.
type Database interface {
	BeginImport(ctx context.Context, source string) (store.Importer, error)
}

// Imported is what importing one feed did.
type Imported struct {
	Name    string // the file's path, or what the caller named the stream
	Format  Format
	Summary Summary           // what the parser read
	Stats   store.ImportStats // what changed in the database
	Elapsed time.Duration
	CVD     *CVDInfo // a ClamAV container's header, checks and members
}

// ImportOptions say how to import one feed.
type ImportOptions struct {
	Format Format // Auto detects it (files only)
	// Source names the feed in the database and in verdicts; "" names it
	// after its format ("clamav" for a ClamAV container).
	Source string
	// Count, when not nil, counts indicators as they are read, for a
	// progress display.
	Count *atomic.Int64
	// AllowUnsigned imports a ClamAV .cvd whose header is not signed with
	// ClamAV's key (its MD5 must still match).
	AllowUnsigned bool
}

// sourceFor is the database's name for a feed imported without one.
func sourceFor(o ImportOptions, f Format) string {
	switch {
	case o.Source != "":
		return o.Source
	case f == ClamAVCVD:
		return "clamav"
	}
	return string(f)
}

// ImportFile imports the feed file at path into db. Errors name the file.
func ImportFile(ctx context.Context, db Database, path string, o ImportOptions) (Imported, error) {
	rc, detected, err := Open(path, o.Format)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return Imported{Name: path}, fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	if err != nil {
		return Imported{Name: path}, err // Open names the file
	}
	defer rc.Close()
	o.Format = detected
	return importStream(ctx, db, rc, path, o)
}

// ImportPath imports the feed file at path into db, or, when path is "-",
// the feed read from stdin (ImportReader).
func ImportPath(ctx context.Context, db Database, path string, stdin io.Reader, o ImportOptions) (Imported, error) {
	if path == "-" {
		return ImportReader(ctx, db, stdin, "-", o)
	}
	return ImportFile(ctx, db, path, o)
}

// ImportReader imports a feed read from r (standard input), which must be
// of a concrete format; gzip-compressed input is recognised by its first
// bytes. name is how errors and results call it ("-").
func ImportReader(ctx context.Context, db Database, r io.Reader, name string, o ImportOptions) (Imported, error) {
	if !isConcrete(o.Format) {
		return Imported{Name: name}, fmt.Errorf("%s: a stream needs --format (one of %s)", name, formatList())
	}
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); bytes.Equal(magic, gzipMagic) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return Imported{Name: name}, fmt.Errorf("%s: not readable as gzip: %w", name, err)
		}
		defer gz.Close()
		return importStream(ctx, db, gz, name, o)
	}
	return importStream(ctx, db, br, name, o)
}

// importStream imports plain feed text, or a ClamAV container, of a
// concrete format.
func importStream(ctx context.Context, db Database, r io.Reader, name string, o ImportOptions) (Imported, error) {
	if o.Format != ClamAVCVD {
		return importSource(ctx, db, r, name, o.Format, sourceFor(o, o.Format), o.Count)
	}
	start := time.Now()
	count := func() {}
	if o.Count != nil {
		count = func() { o.Count.Add(1) }
	}
	isCLD := strings.HasSuffix(strings.ToLower(name), ".cld")
	res, info, err := ImportCVD(ctx, db, r, name, sourceFor(o, ClamAVCVD), isCLD, o.AllowUnsigned, count)
	res.CVD = &info
	res.Elapsed = time.Since(start)
	return res, err
}

// Import reads one feed of a concrete format from r into db, under the
// source named by its format. See importSource.
func Import(ctx context.Context, db Database, r io.Reader, name string, format Format, count *atomic.Int64) (Imported, error) {
	return importSource(ctx, db, r, name, format, string(format), count)
}

// importSource reads one feed from r into db under source, all or
// nothing: nothing is visible to lookups before the whole feed was read,
// and a feed of which not one line is an entry (the wrong format, or not
// a feed at all) is an error that imports nothing. Errors are prefixed
// with name.
func importSource(ctx context.Context, db Database, r io.Reader, name string, format Format, source string, count *atomic.Int64) (Imported, error) {
	res := Imported{Name: name, Format: format}
	if count == nil {
		count = new(atomic.Int64)
	}
	start := time.Now()
	imp, err := db.BeginImport(ctx, source)
	if err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	defer imp.Rollback()
	if IsURLFormat(format) {
		res.Summary, err = ParseURLs(r, format, func(ind reputation.URLIndicator) error {
			count.Add(1)
			return imp.AddURL(ind)
		})
	} else {
		res.Summary, err = Parse(r, format, func(ind reputation.FileIndicator) error {
			count.Add(1)
			return imp.Add(ind)
		})
	}
	if err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	if sum := res.Summary; sum.Indicators == 0 && sum.Malformed > 0 {
		first := ""
		if len(sum.Errors) > 0 {
			first = " (first: " + sum.Errors[0].Error() + ")"
		}
		return res, fmt.Errorf("%s: not one of its %d lines is a %s entry%s; nothing was imported (is --format right?)",
			name, sum.Lines, format, first)
	}
	if res.Stats, err = imp.Commit(); err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}
