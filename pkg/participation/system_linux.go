package participation

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// platformInfo returns the kernel release and the total memory in bytes,
// "" and 0 for what it cannot read.
func platformInfo() (release string, memBytes uint64) {
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		release = string(b)
	}
	return release, memTotal("/proc/meminfo")
}

// memTotal reads MemTotal (in kB, which are KiB) from a meminfo file.
func memTotal(path string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return 0
		}
		kib, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0
		}
		return kib << 10
	}
	return 0
}
