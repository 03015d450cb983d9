package participation

import "golang.org/x/sys/unix"

// platformInfo returns the kernel release (kern.osrelease) and the total
// memory in bytes (hw.memsize), "" and 0 for what it cannot read.
func platformInfo() (release string, memBytes uint64) {
	release, _ = unix.Sysctl("kern.osrelease")
	memBytes, _ = unix.SysctlUint64("hw.memsize")
	return release, memBytes
}
