//go:build linux || darwin || freebsd || netbsd || openbsd

package checksum

import (
	"io/fs"
	"syscall"
)

// fileIdentity is what must not change while a file is read. ctime catches
// writes that restore the mtime (touch -d, archive extraction).
type fileIdentity struct {
	dev, ino uint64
	size     int64
	mtimeNs  int64
	ctimeNs  int64
}

func identityOf(fi fs.FileInfo) fileIdentity {
	id := fileIdentity{size: fi.Size(), mtimeNs: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.dev = uint64(st.Dev)
		id.ino = uint64(st.Ino)
		id.ctimeNs = ctimeNs(st)
	}
	return id
}

// inode identifies a directory for loop detection when following symlinks.
type inode struct{ dev, ino uint64 }

func inodeOf(fi fs.FileInfo) (inode, bool) {
	id := identityOf(fi)
	return inode{id.dev, id.ino}, id.ino != 0
}
