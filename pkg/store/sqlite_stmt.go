package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// lazyStmt is a statement prepared on its first use and kept for the
// database's life. A `ksn check` of one file uses one lookup statement of
// the several classes; preparing them all when the database opened was a
// third of the command's own work. A failed preparation is not kept: the
// next use tries again.
type lazyStmt struct {
	query string
	stmt  atomic.Pointer[sql.Stmt]
	mu    sync.Mutex // held while preparing
}

// get returns the prepared statement, preparing it on db the first time.
func (l *lazyStmt) get(db *sql.DB) (*sql.Stmt, error) {
	if st := l.stmt.Load(); st != nil {
		return st, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if st := l.stmt.Load(); st != nil {
		return st, nil
	}
	// Not under a caller's context: preparing is quick, and a statement
	// is shared by every later caller.
	st, err := db.PrepareContext(context.Background(), l.query)
	if err != nil {
		return nil, err
	}
	l.stmt.Store(st)
	return st, nil
}

// close closes the statement if it was ever prepared.
func (l *lazyStmt) close() error {
	if st := l.stmt.Load(); st != nil {
		return st.Close()
	}
	return nil
}
