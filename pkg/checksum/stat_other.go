//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package checksum

import (
	"errors"
	"io/fs"
)

// fileIdentity has the fields of the unix one, so that the stat cache's
// file format is the same everywhere; here only size and mtime are known.
type fileIdentity struct {
	dev, ino uint64
	size     int64
	mtimeNs  int64
	ctimeNs  int64
}

func identityOf(fi fs.FileInfo) fileIdentity {
	return fileIdentity{size: fi.Size(), mtimeNs: fi.ModTime().UnixNano()}
}

type inode struct{}

// inodeOf has no inode numbers to offer here; the walk's depth limit is
// what stops a symlink loop on such systems.
func inodeOf(fs.FileInfo) (inode, bool) { return inode{}, false }

// statCacheSupported: without inode numbers and ctime an entry could not
// tell a file rewritten with its mtime restored, so the stat cache is off.
const statCacheSupported = false

// statPath is never called where statCacheSupported is false.
func statPath(string) (fileIdentity, bool, error) {
	return fileIdentity{}, false, errors.New("stat cache not supported on this system")
}
