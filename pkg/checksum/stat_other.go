//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package checksum

import "io/fs"

type fileIdentity struct {
	size    int64
	mtimeNs int64
}

func identityOf(fi fs.FileInfo) fileIdentity {
	return fileIdentity{size: fi.Size(), mtimeNs: fi.ModTime().UnixNano()}
}

type inode struct{}

// inodeOf has no inode numbers to offer here; the walk's depth limit is
// what stops a symlink loop on such systems.
func inodeOf(fs.FileInfo) (inode, bool) { return inode{}, false }
