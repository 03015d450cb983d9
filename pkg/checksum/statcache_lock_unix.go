//go:build unix

package checksum

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// lockFile takes an exclusive flock(2) on path (created when missing),
// waiting up to wait for another process's Save. The lock is on a file of
// its own because the cache file is replaced, not rewritten: a lock on it
// would be a lock on a file already gone. The kernel drops the lock when
// its process dies, so a killed ksn never leaves the cache locked.
func lockFile(path string, wait time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(fd, syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if (err != syscall.EWOULDBLOCK && err != syscall.EINTR) || time.Now().After(deadline) {
			f.Close()
			if err == syscall.EWOULDBLOCK {
				return nil, errors.New("another ksn held its lock for too long")
			}
			return nil, err
		}
		time.Sleep(5 * time.Millisecond)
	}
}
