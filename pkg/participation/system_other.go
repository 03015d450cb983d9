//go:build !linux && !darwin

package participation

// platformInfo knows nothing of this platform's kernel release or memory.
func platformInfo() (release string, memBytes uint64) { return "", 0 }
