package store

import (
	"context"
	"database/sql"
	"sync"
)

// groupWriter is the connection a Server's group writer (QueueWrites)
// writes with, and the goroutine that checkpoints the WAL beside it.
// Its connection has a page cache a group's pages fit in (64 MiB; the
// pool's connections keep SQLite's 2 MiB, lookups read through the memory
// map) and no automatic checkpoint: a commit that checkpoints copies its
// pages into the database file before the writer may begin the next
// group, two fifths of a group's time; checkpointed by another connection
// (PASSIVE: it never waits for the writer, nor the writer for it), the
// copy runs on the other core meanwhile.
type groupWriter struct {
	mu   sync.Mutex // held while a group is written
	conn *sql.Conn
	kick chan struct{} // a group committed: the WAL has grown
	stop chan struct{}
	done chan struct{}
}

// startGroupWriter gives s a connection of its own to write groups with,
// and starts the checkpoints beside it; stop ends both.
func (s *Server) startGroupWriter(ctx context.Context) (stop func(), err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	for _, q := range []string{`PRAGMA cache_size = -65536`, `PRAGMA wal_autocheckpoint = 0`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			conn.Close()
			return nil, err
		}
	}
	w := &groupWriter{conn: conn, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go w.checkpoints(s.db)
	s.groupMu.Lock()
	s.writer = w
	s.groupMu.Unlock()
	return func() {
		close(w.stop)
		<-w.done
		s.groupMu.Lock()
		s.writer = nil
		s.groupMu.Unlock()
		w.mu.Lock() // a group being written finishes first
		defer w.mu.Unlock()
		// What the writer left in the WAL goes into the file now, as an
		// automatic checkpoint would have done.
		_, _ = conn.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
		conn.Close()
	}, nil
}

// writerConn returns the connection a group is written with, for the
// caller alone until release: the group writer's when there is one, else
// one of the pool's.
func (s *Server) writerConn(ctx context.Context) (conn *sql.Conn, release func(), err error) {
	s.groupMu.Lock()
	w := s.writer
	s.groupMu.Unlock()
	if w == nil {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return nil, nil, err
		}
		return conn, func() { conn.Close() }, nil
	}
	w.mu.Lock()
	return w.conn, func() {
		w.mu.Unlock()
		select {
		case w.kick <- struct{}{}:
		default: // a checkpoint is due already
		}
	}, nil
}

// checkpoints copies the WAL into the database file after groups, from a
// connection of the pool, until stop. A checkpoint that fails (the purge
// checkpointing at the same moment) is left to the next.
func (w *groupWriter) checkpoints(db *sql.DB) {
	defer close(w.done)
	for {
		select {
		case <-w.stop:
			return
		case <-w.kick:
		}
		_, _ = db.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
	}
}
