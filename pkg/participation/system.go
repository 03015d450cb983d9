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

// sanitizeRelease keeps of a kernel release only its leading numeric
// version ("6.8.0" of "6.8.0-45-generic"), at most four parts. Whoever
// built the kernel chose the rest, and a custom build's suffix
// ("-fc-v1045", "+alice") can be unique to one machine: a version is what
// the statistics need, a fingerprint is not.
func sanitizeRelease(s string) string {
	s = strings.TrimSpace(s)
	var parts []string
	for _, p := range strings.SplitN(s, ".", 5) {
		n := 0
		for n < len(p) && n < 8 && p[n] >= '0' && p[n] <= '9' {
			n++
		}
		if n == 0 {
			break
		}
		parts = append(parts, p[:n])
		if n < len(p) || len(parts) == 4 {
			break // the version ends inside this part
		}
	}
	return strings.Join(parts, ".")
}
