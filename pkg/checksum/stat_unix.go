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

// statCacheSupported: the stat cache needs device, inode and ctime to
// trust an entry, which only these systems report.
const statCacheSupported = true

// statPath stats path, following symlinks as opening it would, without
// the allocations of os.Stat: a re-check stats every file and reads none.
// regular is false for anything but a regular file.
func statPath(path string) (id fileIdentity, regular bool, err error) {
	var st syscall.Stat_t
	for {
		err = syscall.Stat(path, &st)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return fileIdentity{}, false, err
	}
	id = fileIdentity{
		dev: uint64(st.Dev), ino: uint64(st.Ino), size: int64(st.Size),
		mtimeNs: mtimeNs(&st), ctimeNs: ctimeNs(&st),
	}
	return id, st.Mode&syscall.S_IFMT == syscall.S_IFREG, nil
}
