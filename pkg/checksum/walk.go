package checksum

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"syscall"
)

// maxDepth stops a descent that no inode check caught (bind mounts, systems
// without inode numbers) long before it exhausts memory.
const maxDepth = 256

// enumerate turns the inputs into jobs in a deterministic order: inputs as
// given, directory entries sorted by name. It stops when send returns false.
func enumerate(ctx context.Context, paths iter.Seq2[string, error], opts Options, send func(job) bool) error {
	e := &enumerator{opts: opts, send: send, sizes: newSizer(ctx, opts)}
	complete := false
	defer func() { e.sizes.finish(complete) }()
	for p, err := range paths {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		if !e.input(p) {
			return nil
		}
	}
	complete = true
	return nil
}

type enumerator struct {
	opts      Options
	send      func(job) bool
	seq       int
	stdinUsed bool
	ancestors []inode
	sizes     *sizer // nil: nobody watches the progress
	named     int64  // bytes of the regular files named so far
}

func (e *enumerator) emit(j job) bool {
	j.seq = e.seq
	e.seq++
	return e.send(j)
}

func (e *enumerator) settle(path string, err error) bool {
	return e.emit(job{path: path, settled: err})
}

func (e *enumerator) input(path string) bool {
	if path == "-" {
		switch {
		case e.opts.Stdin == nil:
			return e.settle(path, errors.New("standard input is not available here (it holds the --files-from list)"))
		case e.stdinUsed:
			return e.settle(path, errors.New("standard input was already read"))
		}
		e.stdinUsed = true
		e.sizes.file(streamSize(e.opts.Stdin))
		return e.emit(job{path: path, stdin: true})
	}
	if path == "" {
		return e.settle(path, errors.New("empty path"))
	}
	// A path the user named is followed even when it is a symlink, as
	// sha256sum does; only links met during a descent need --follow.
	fi, err := os.Stat(path)
	if err != nil {
		return e.settle(path, describe(err))
	}
	switch {
	case fi.IsDir() && e.opts.Recursive:
		e.sizes.dir(path)
		return e.dir(path, fi, 0)
	case fi.IsDir():
		return e.settle(path, errIsDir)
	case fi.Mode().IsRegular():
		e.sizes.file(fi.Size())
		e.named += fi.Size()
		// A small file named alone is hashed faster than the cache is read.
		c := e.opts.Cache
		return e.emit(job{path: path, cacheable: c != nil && e.named >= max(directBytes, c.fileSize())})
	}
	// A special file the user named is an error, not a skip: exit status 0
	// must never mean "nothing found" for an input nobody looked at.
	hint := "to hash what it yields: ksn check - < " + path
	if fi.Mode()&fs.ModeCharDevice != 0 {
		// A device may never end (/dev/zero): read a bounded amount.
		hint = "to hash a part of it: head -c 1M " + path + " | ksn check -"
	}
	return e.settle(path, fmt.Errorf("%s: not read, it could block forever (%s)", skipReasonFor(fi.Mode()), hint))
}

func (e *enumerator) dir(path string, fi fs.FileInfo, depth int) bool {
	if depth >= maxDepth {
		return e.settle(path, fmt.Errorf("directory nesting deeper than %d levels", maxDepth))
	}
	if id, ok := inodeOf(fi); ok {
		for _, a := range e.ancestors {
			if a == id {
				return e.settle(path, &SkipError{SkipLoop})
			}
		}
		e.ancestors = append(e.ancestors, id)
		defer func() { e.ancestors = e.ancestors[:len(e.ancestors)-1] }()
	}
	entries, readErr := os.ReadDir(path)
	for _, d := range entries {
		if !e.entry(filepath.Join(path, d.Name()), d, depth) {
			return false
		}
	}
	if readErr != nil {
		return e.settle(path, describe(readErr))
	}
	return true
}

func (e *enumerator) entry(path string, d fs.DirEntry, depth int) bool {
	t := d.Type()
	switch {
	case t.IsRegular():
		return e.emit(job{path: path, cacheable: e.opts.Cache != nil})
	case t.IsDir():
		fi, err := d.Info()
		if err != nil {
			return e.settle(path, describe(err))
		}
		return e.dir(path, fi, depth+1)
	case t&fs.ModeSymlink != 0 && e.opts.Follow:
		fi, err := os.Stat(path)
		if errors.Is(err, syscall.ELOOP) {
			return e.settle(path, &SkipError{SkipLoop})
		}
		if err != nil {
			return e.settle(path, describe(err))
		}
		if fi.IsDir() {
			return e.dir(path, fi, depth+1)
		}
		if fi.Mode().IsRegular() {
			return e.emit(job{path: path, cacheable: e.opts.Cache != nil})
		}
		return e.settle(path, &SkipError{skipReasonFor(fi.Mode())})
	}
	return e.settle(path, &SkipError{skipReasonFor(t)})
}

// describe turns the errors a user meets most into plain words; the path
// is reported beside the error, so the *PathError wrapper is dropped.
func describe(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, syscall.ELOOP):
		return errors.New("symlink loop (too many levels of symbolic links)")
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("no such file or directory")
	case errors.Is(err, fs.ErrPermission):
		return errors.New("permission denied")
	}
	return err
}

// streamSize is the size of what standard input holds when it is a
// regular file (ksn check - < file), or -1.
func streamSize(r io.Reader) int64 {
	if f, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size()
		}
	}
	return -1
}
