package store

import "context"

// Local is the user's local reputation database (DefaultFileName in the
// data directory): the indicators of the built-in baseline and of the feeds
// the user imported, which `ksn check` and `ksn url` look up before asking
// the network, and the cache of the network's answers (CachedVerdicts).
// It holds nothing of a server: no license, no submission.
//
// It implements Store. Its methods are safe for concurrent use, from
// several goroutines and several processes.
type Local struct {
	sqliteDB
}

var _ Store = (*Local)(nil)

// OpenLocal opens the local reputation database at path, creating it (and
// its parent directories, mode 0700; the file mode 0600) when missing, and
// brings its schema up to date, which on a fresh file includes the
// built-in baseline. Several processes may open the same fresh path at the
// same moment: every one of them succeeds and the schema is applied once.
//
// A file that is not a ksn reputation database gives an error wrapping
// ErrNotReputationDB; the file is left untouched.
func OpenLocal(ctx context.Context, path string) (*Local, error) {
	l := &Local{}
	if err := l.open(ctx, path); err != nil {
		return nil, err
	}
	return l, nil
}
