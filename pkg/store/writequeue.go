package store

import (
	"context"
	"sync"
	"time"
)

// QueueWrites returns db with its StoreSubmissions run by one writer
// goroutine, one batch at a time, in the order they arrived. SQLite lets
// one transaction write at a time, and its connections wait for the lock
// by sleeping and retrying, unfairly: sixteen submitters of 1,000-record
// batches left some waiting past the busy timeout (SQLITE_BUSY, a 500).
// Queued in the process, a batch waits only for the batches before it,
// and the lock is contended only by other processes (an import, ksn
// admin). A batch whose request ends while it is queued is not written.
// Close stops the writer, then closes db.
//
// PostgreSQL needs no queue: its row locks let batches of different
// records be written at once.
func QueueWrites(db ServerDatabase) ServerDatabase {
	q := &queuedWrites{ServerDatabase: db, jobs: make(chan *writeJob), stopped: make(chan struct{})}
	go q.run()
	return q
}

type queuedWrites struct {
	ServerDatabase
	jobs     chan *writeJob
	stopped  chan struct{}
	stopOnce sync.Once
}

type writeJob struct {
	ctx  context.Context
	from Sender
	subs []Submission
	at   time.Time

	accepted, duplicates int
	err                  error
	done                 chan struct{}
}

func (q *queuedWrites) run() {
	for {
		select {
		case <-q.stopped:
			return
		case j := <-q.jobs:
			if err := j.ctx.Err(); err != nil {
				j.err = err
			} else {
				j.accepted, j.duplicates, j.err = q.ServerDatabase.StoreSubmissions(j.ctx, j.from, j.subs, j.at)
			}
			close(j.done)
		}
	}
}

// StoreSubmissions queues the batch for the writer and waits for it.
func (q *queuedWrites) StoreSubmissions(ctx context.Context, from Sender, subs []Submission, at time.Time) (int, int, error) {
	j := &writeJob{ctx: ctx, from: from, subs: subs, at: at, done: make(chan struct{})}
	select {
	case q.jobs <- j:
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	case <-q.stopped:
		return 0, 0, context.Canceled
	}
	select {
	case <-j.done:
		return j.accepted, j.duplicates, j.err
	case <-ctx.Done():
		return 0, 0, ctx.Err() // the writer finds the context ended, or aborts with it
	}
}

// Close stops the writer and closes the database.
func (q *queuedWrites) Close() error {
	q.stopOnce.Do(func() { close(q.stopped) })
	return q.ServerDatabase.Close()
}
