package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
}

// ImportFile imports the feed file at path (format Auto detects it) into
// db, under the source named by its format. count, when not nil, counts
// indicators as they are read, for a progress display. Errors name the
// file.
func ImportFile(ctx context.Context, db Database, path string, format Format, count *atomic.Int64) (Imported, error) {
	rc, detected, err := Open(path, format)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return Imported{Name: path}, fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	if err != nil {
		return Imported{Name: path}, err // Open names the file
	}
	defer rc.Close()
	return Import(ctx, db, rc, path, detected, count)
}

// Import reads one feed of a concrete format from r into db, all or
// nothing: nothing is visible to lookups before the whole feed was read,
// and a feed of which not one line is an entry (the wrong format, or not
// a feed at all) is an error that imports nothing. Errors are prefixed
// with name.
func Import(ctx context.Context, db Database, r io.Reader, name string, format Format, count *atomic.Int64) (Imported, error) {
	res := Imported{Name: name, Format: format}
	if count == nil {
		count = new(atomic.Int64)
	}
	start := time.Now()
	imp, err := db.BeginImport(ctx, string(format))
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
