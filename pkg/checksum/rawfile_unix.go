//go:build unix

package checksum

import (
	"io"
	"io/fs"
	"syscall"
	"time"
)

// rawFile reads a file through plain system calls. For 20,000 small files
// the os.File machinery (poller registration, locks) is a measurable share
// of the run; a descriptor and read(2) is all hashing needs.
type rawFile struct {
	fd   int
	path string
}

func openRaw(path string) (fileReader, error) {
	for {
		// O_NONBLOCK: opening a FIFO swapped in after the walk must not
		// wait for a writer; it is then refused by the fstat check.
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return &rawFile{fd: fd, path: path}, nil
	}
}

func (f *rawFile) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(f.fd, p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: f.path, Err: err}
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f *rawFile) Stat() (fs.FileInfo, error) {
	var st syscall.Stat_t
	for {
		err := syscall.Fstat(f.fd, &st)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "stat", Path: f.path, Err: err}
		}
		return &statInfo{st: st}, nil
	}
}

func (f *rawFile) Close() error { return syscall.Close(f.fd) }

// statInfo adapts a Stat_t to fs.FileInfo without the os package's
// per-call allocations of a name.
type statInfo struct{ st syscall.Stat_t }

func (s *statInfo) Name() string       { return "" }
func (s *statInfo) Size() int64        { return int64(s.st.Size) }
func (s *statInfo) ModTime() time.Time { return time.Unix(0, mtimeNs(&s.st)) }
func (s *statInfo) IsDir() bool        { return s.Mode().IsDir() }
func (s *statInfo) Sys() any           { return &s.st }
func (s *statInfo) Mode() fs.FileMode {
	m := fs.FileMode(s.st.Mode & 0o777)
	switch s.st.Mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	}
	return m
}
