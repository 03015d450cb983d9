package participation

import (
	"runtime"
	"strings"
)

// SystemInfo is the body of a "system" record: depersonalised facts about
// the machine that help the network judge scan-time statistics. It holds
// nothing that identifies the machine or its user: never a host name, user
// name, path, MAC or IP address.
type SystemInfo struct {
	OS         string `json:"os"`         // runtime.GOOS
	OSVersion  string `json:"os_version"` // kernel release, "" when unknown
	Arch       string `json:"arch"`       // runtime.GOARCH
	CPUs       int    `json:"cpus"`
	MemoryGiB  int    `json:"memory_gib"` // total memory rounded to the nearest GiB, 0 when unknown
	KSNVersion string `json:"ksn_version"`
}

// FileObservation is the body of a "file" record: what the network learns
// from one checked file. It has no path or name: the digests identify the
// content, and that is all the statistics need.
type FileObservation struct {
	Digests map[string]string `json:"digests"` // algorithm → lower-case hex
	Size    int64             `json:"size"`
	Verdict string            `json:"verdict"`
	HashMS  float64           `json:"hash_ms"` // time spent hashing and checking it
}

// CurrentSystem describes this machine for a system record.
func CurrentSystem(ksnVersion string) SystemInfo {
	release, memBytes := platformInfo()
	return SystemInfo{
		OS:         runtime.GOOS,
		OSVersion:  sanitizeRelease(release),
		Arch:       runtime.GOARCH,
		CPUs:       runtime.NumCPU(),
		MemoryGiB:  roundGiB(memBytes),
		KSNVersion: ksnVersion,
	}
}

// roundGiB rounds a byte count to the nearest GiB; a machine with some
// memory but less than half a GiB reports 1, not 0 (0 means unknown).
func roundGiB(b uint64) int {
	if b == 0 {
		return 0
	}
	return max(1, int((b+1<<29)>>30))
}

// sanitizeRelease keeps a kernel release to what a release string is made
// of, and bounds its length. A release is chosen by whoever built the
// kernel (e.g. "6.8.0-45-generic", "23.4.0"); a custom build may put
// anything in it, and nothing beyond a version should leave the machine.
func sanitizeRelease(s string) string {
	s = strings.TrimSpace(s)
	const maxLen = 64
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < maxLen; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z',
			c == '.', c == '-', c == '_', c == '+', c == '~':
			b.WriteByte(c)
		default:
			return b.String() // stop at the first odd byte: what follows is not a version
		}
	}
	return b.String()
}
