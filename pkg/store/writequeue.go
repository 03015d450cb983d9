package store

import (
	"context"
	"fmt"
	"github.com/ksnproject/ksn/pkg/reputation"
	"sync"
	"time"
)

// QueueWrites returns db with its StoreSubmissions run by one writer
// goroutine, in the order they arrived. SQLite lets one transaction write
// at a time, and its connections wait for the lock by sleeping and
// retrying, unfairly: sixteen submitters of 1,000-record batches left
// some waiting past the busy timeout (SQLITE_BUSY, a 500). Queued in the
// process, a batch waits only for the batches before it, and the lock is
// contended only by other processes (an import, ksn admin).
//
// The writer commits in groups: the batches that queued while it wrote
// the last group are written in one transaction (up to maxGroupRecords
// records), each still answered on its own and all or nothing
// (Server.storeGroup). Its batches are checked by their submitters before
// they queue. A batch whose request ends while it is queued is not
// written. Close stops the writer, then closes db.
//
// PostgreSQL needs no queue: its row locks let batches of different
// records be written at once.
func QueueWrites(db ServerDatabase) ServerDatabase {
	q := &queuedWrites{ServerDatabase: db, jobs: make(chan *groupJob, maxQueued), stopped: make(chan struct{})}
	if g, ok := db.(groupStorer); ok {
		if stop, err := g.startGroupWriter(context.Background()); err == nil {
			q.group, q.stopGroup = g, stop
		} // else one batch at a time, on the pool's connections
	}
	go q.run()
	return q
}

// groupStorer stores several checked batches in one transaction; *Server
// is one.
type groupStorer interface {
	startGroupWriter(ctx context.Context) (stop func(), err error)
	prepareGroupJob(j *groupJob)
	storeGroup(ctx context.Context, jobs []*groupJob)
}

// Bounds of a group commit: the records of one transaction (a group of
// 16 full batches takes SQLite about a second), and the batches waiting
// in the channel for the next group: one group's worth, so that what
// waits in memory stays bounded (the decoded batches of one group
// waiting, one being written) while the writer never waits for a body to
// be read.
const (
	maxGroupRecords = 16_000
	maxQueued       = 16
)

// queuedKey carries WhenQueued's function.
type queuedKey struct{}

// WhenQueued returns ctx carrying fn, which StoreSubmissions of a database
// QueueWrites made calls once the batch has joined the writer's queue (or
// failed before): from then on the batch waits for its turn without
// holding what its caller held to read it (the server's bound on bodies
// read at once). Other databases never call it.
func WhenQueued(ctx context.Context, fn func()) context.Context {
	return context.WithValue(ctx, queuedKey{}, fn)
}

// queued calls ctx's WhenQueued function, if any.
func queued(ctx context.Context) {
	if fn, ok := ctx.Value(queuedKey{}).(func()); ok {
		fn()
	}
}

type queuedWrites struct {
	ServerDatabase
	group     groupStorer // nil: one batch at a time
	stopGroup func()
	jobs      chan *groupJob
	stopped   chan struct{}
	stopOnce  sync.Once
}

func (q *queuedWrites) run() {
	var next *groupJob // taken from the channel, for the group after this one
	for {
		j := next
		next = nil
		if j == nil {
			select {
			case <-q.stopped:
				return
			case j = <-q.jobs:
			}
		}
		group, records := []*groupJob{j}, len(j.subs)
	more:
		for q.group != nil && records < maxGroupRecords {
			select {
			case k := <-q.jobs:
				if records+len(k.subs) > maxGroupRecords {
					next = k
					break more
				}
				group, records = append(group, k), records+len(k.subs)
			default:
				break more
			}
		}
		q.write(group)
	}
}

// write stores a group and answers its batches.
func (q *queuedWrites) write(group []*groupJob) {
	if q.group != nil {
		// Not any one request's context: a request that ends must not
		// fail the others of its group.
		q.group.storeGroup(context.WithoutCancel(group[0].ctx), group)
	} else {
		for _, j := range group {
			if j.err = j.ctx.Err(); j.err == nil {
				j.accepted, j.duplicates, j.err = q.ServerDatabase.StoreSubmissions(j.ctx, j.from, j.subs, j.at)
			}
		}
	}
	for _, j := range group {
		close(j.done)
	}
}

// StoreSubmissions checks the batch, queues it for the writer and waits
// for its answer.
func (q *queuedWrites) StoreSubmissions(ctx context.Context, from Sender, subs []Submission, at time.Time) (int, int, error) {
	j, err := newGroupJob(ctx, from, subs, at)
	if err != nil {
		return 0, 0, fmt.Errorf("store submissions: %w", err)
	}
	j.done = make(chan struct{})
	if q.group != nil {
		q.group.prepareGroupJob(j) // here, on the submitter's goroutine, not the writer's
	}
	told := sync.OnceFunc(func() { queued(ctx) })
	defer told() // on every way out, queued or not
	select {
	case q.jobs <- j:
		told()
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	case <-q.stopped:
		return 0, 0, context.Canceled
	}
	select {
	case <-j.done:
		if j.err != nil && q.group != nil {
			return 0, 0, fmt.Errorf("store submissions: %w", j.err)
		}
		return j.accepted, j.duplicates, j.err
	case <-ctx.Done():
		return 0, 0, ctx.Err() // the writer finds the context ended, or writes it anyway
	}
}

// Close stops the writer and closes the database.
func (q *queuedWrites) Close() error {
	q.stopOnce.Do(func() {
		close(q.stopped)
		if q.stopGroup != nil {
			q.stopGroup()
		}
	})
	return q.ServerDatabase.Close()
}

// LookupFilesWithStats is FileLookupWithStats of the database queued,
// or its LookupFiles and ObjectStats one after the other.
func (q *queuedWrites) LookupFilesWithStats(ctx context.Context, files []FileDigests, kind string, objects [][]byte) ([]reputation.Result, map[string]ObjectStat, error) {
	if both, ok := q.ServerDatabase.(FileLookupWithStats); ok {
		return both.LookupFilesWithStats(ctx, files, kind, objects)
	}
	results, err := q.LookupFiles(ctx, files)
	if err != nil {
		return nil, nil, err
	}
	stats, err := q.ObjectStats(ctx, kind, objects)
	return results, stats, err
}

// WarmLookups is LookupWarmer of the database queued, if it is one.
func (q *queuedWrites) WarmLookups(ctx context.Context) (int, error) {
	if w, ok := q.ServerDatabase.(LookupWarmer); ok {
		return w.WarmLookups(ctx)
	}
	return 0, nil
}
