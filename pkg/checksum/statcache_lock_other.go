//go:build !unix

package checksum

import "time"

// lockFile has no lock to take here: the stat cache is off on these
// systems (statCacheSupported), so no two processes merge one.
func lockFile(string, time.Duration) (func(), error) { return func() {}, nil }
