package store

import (
	"context"
	"time"
)

// RunQueue is implemented by a store that several nodes share
// (JetStream): it hands each queued run to one node at a time, and to
// another node when the one holding it stops confirming (it died), so a
// run resumes elsewhere at its first unfinished task. A single-process
// store (Badger) does not implement it: its engine queues runs in memory.
type RunQueue interface {
	// CreateQueued is Runs.Create that also queues, in the same atomic
	// write, every run whose status is queued. (A run created with
	// Runs.Create, such as a test run executed by its caller, is not
	// queued.)
	CreateQueued(ctx context.Context, runs []*Run, kv []KVWrite) error
	// Requeue queues the runs with these IDs that have no queue entry (runs
	// created before the queue existed) and reports how many it queued; a
	// run queued already is left alone.
	Requeue(ctx context.Context, ids []string) (int, error)
	// Claim waits up to wait for a run that is due and returns the claim
	// on it, or nil when none came. Only one node at a time holds a claim
	// on a run, while it calls Extend more often than ClaimTimeout.
	Claim(ctx context.Context, wait time.Duration) (RunClaim, error)
	// ClaimTimeout is how long a claim lasts without Extend; then the run
	// goes to another node.
	ClaimTimeout() time.Duration
}

// RunClaim is one node's hold on a queued run.
type RunClaim interface {
	RunID() string
	// Run reads the claimed run no older than the write that queued it:
	// ErrNotFound means the run is gone (expired), never that the read
	// reached a replica behind the one that handed the run out.
	Run(ctx context.Context) (*Run, error)
	// Extend confirms the run is still being executed.
	Extend(ctx context.Context) error
	// Done removes the finished run from the queue.
	Done(ctx context.Context) error
	// RetryAt gives the run back, to be claimed again (by any node) at at;
	// a time not in the future hands it on at once.
	RetryAt(ctx context.Context, at time.Time) error
}

// AsRunQueue returns s's run queue, when s (or the store it wraps by
// embedding) has one.
func AsRunQueue(s Store) (RunQueue, bool) {
	q, ok := s.(RunQueue)
	return q, ok
}
