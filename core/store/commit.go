package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// op is one caller's write, applied by the committer to a shared transaction.
// apply may run more than once (the batch is rebuilt when another op in it
// fails or the transaction gets too big), so it must reset any result it
// records and depend only on the transaction and its own inputs.
type op interface {
	// ctx is the caller's context: an op whose caller gave up before the
	// batch was built is left out.
	ctx() context.Context
	// cost is an upper bound of what apply adds to a transaction, in
	// Badger's accounting (entries, bytes), so batches are split before
	// Badger refuses them.
	cost() (count, size int64)
	apply(b *batch) error
	// finish delivers the outcome; it must not block.
	finish(err error)
}

// batch is the state of one transaction being built.
type batch struct {
	txn    *badger.Txn
	now    time.Time // the injectable clock, for dedup windows
	seq    uint64    // last log sequence assigned in this batch
	events int       // events appended in this batch
	counts map[string]int
	count  int64 // estimated entries (sum of op costs)
	size   int64 // estimated bytes
}

// countDelta records a change of the number of runs in a status.
func (b *batch) countDelta(status string, d int) {
	if b.counts == nil {
		b.counts = make(map[string]int)
	}
	b.counts[status] += d
}

// committer owns every write to Badger. Callers queue ops; the committer
// takes everything queued, applies it to one transaction, commits it with
// one sync and then answers every caller (group commit).
type committer struct {
	db     *badger.DB
	logger *slog.Logger
	now    func() time.Time
	counts *runCounts
	notify chan struct{}
	// guard refuses writes while the disk is (nearly) full; nil in memory.
	guard *diskGuard
	// fault, set only by tests, fails a commit before Badger sees it (a
	// write error such as ENOSPC).
	fault func() error

	// Transactions are cut before Badger's own limits, with some headroom
	// for the estimate being a little low.
	maxCount, maxSize int64

	seq     uint64 // last sequence handed out; committer goroutine only
	lastSeq atomic.Uint64

	// lingered is the last commit, for the linger (linger.go); stats
	// count commits for benchmarks.
	lingered lingerState
	stats    struct{ commits, ops, nanos atomic.Int64 }

	mu      sync.Mutex
	pending []op
	spare   []op
	closed  bool
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

func newCommitter(db *badger.DB, logger *slog.Logger, now func() time.Time, lastSeq uint64, counts *runCounts, guard *diskGuard) *committer {
	c := &committer{
		guard:    guard,
		db:       db,
		logger:   logger,
		now:      now,
		counts:   counts,
		notify:   make(chan struct{}, 1),
		maxCount: db.MaxBatchCount() * 9 / 10,
		maxSize:  db.MaxBatchSize() * 9 / 10,
		seq:      lastSeq,
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	c.lastSeq.Store(lastSeq)
	go c.loop()
	return c
}

// submit queues o and waits for its outcome. When ctx ends first it returns
// ctx.Err(); the op may still be committed afterwards.
func (c *committer) submit(ctx context.Context, o op, done <-chan error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.pending = append(c.pending, o)
	c.lingered.arrivals++
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default: // the committer is already due to look at the queue
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		select {
		case err := <-done: // finished at the same moment: report the truth
			return err
		default:
			return ctx.Err()
		}
	}
}

// close stops accepting ops, commits those already queued and waits for
// the committer to exit.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.stop)
	}
	c.mu.Unlock()
	<-c.done
}

func (c *committer) loop() {
	defer close(c.done)
	for {
		select {
		case <-c.wake:
			c.linger()
			c.runPending()
		case <-c.stop:
			for c.runPending() {
			}
			return
		}
	}
}

// runPending commits everything queued; it reports whether there was any.
func (c *committer) runPending() bool {
	c.mu.Lock()
	ops := c.pending
	c.pending = c.spare[:0]
	c.mu.Unlock()
	if len(ops) == 0 {
		c.spare = ops
		return false
	}
	if err := c.guard.check(); err != nil {
		ops = refuse(ops, err)
	}
	for start := 0; start < len(ops); {
		if x, ok := ops[start].(*exclusiveOp); ok {
			x.finish(x.fn())
			start++
			continue
		}
		end := start + 1
		for end < len(ops) && !isExclusive(ops[end]) {
			end++
		}
		for start < end {
			start += c.commitPrefix(ops[start:end])
		}
	}
	clear(ops) // drop references so finished ops can be collected
	c.spare = ops[:0]
	return true
}

func (c *committer) newBatch() *batch {
	return &batch{txn: c.db.NewTransaction(true), now: c.now(), seq: c.seq}
}

// commitPrefix builds one transaction from the first ops, commits it and
// returns how many ops it consumed (finished, whether committed or failed).
func (c *committer) commitPrefix(ops []op) int {
	b := c.newBatch()
	var in []op // ops applied to b
	for i, o := range ops {
		if err := o.ctx().Err(); err != nil {
			o.finish(err)
			continue
		}
		count, size := o.cost()
		if len(in) > 0 && (b.count+count > c.maxCount || b.size+size > c.maxSize) {
			c.commitBatch(b, in)
			return i
		}
		err := o.apply(b)
		if err == nil {
			in = append(in, o)
			b.count += count
			b.size += size
			continue
		}
		if errors.Is(err, badger.ErrTxnTooBig) && len(in) > 0 {
			// The estimate was low: commit what fit, and give o a
			// transaction of its own next.
			b, in = c.rebuild(b, in)
			c.commitBatch(b, in)
			return i
		}
		var clean cleanError
		if errors.As(err, &clean) {
			o.finish(clean.err) // nothing written: b stays as it is
			continue
		}
		if errors.Is(err, badger.ErrTxnTooBig) {
			err = fmt.Errorf("write too large for one transaction: %w", err)
		}
		o.finish(err)
		// o may have written part of its entries: start over without it.
		b, in = c.rebuild(b, in)
	}
	c.commitBatch(b, in)
	return len(ops)
}

// rebuild discards b and applies the ops again to a fresh transaction. An op
// that fails now (it succeeded moments ago, so this is not expected) is
// finished with its error and left out.
func (c *committer) rebuild(b *batch, in []op) (*batch, []op) {
	b.txn.Discard()
	for {
		nb := c.newBatch()
		failed := -1
		for j, o := range in {
			if err := o.apply(nb); err != nil {
				var clean cleanError
				if errors.As(err, &clean) {
					err = clean.err
				}
				o.finish(err)
				failed = j
				break
			}
			count, size := o.cost()
			nb.count += count
			nb.size += size
		}
		if failed < 0 {
			return nb, in
		}
		nb.txn.Discard()
		in = append(in[:failed:failed], in[failed+1:]...)
	}
}

func (c *committer) commitBatch(b *batch, in []op) {
	if len(in) == 0 {
		b.txn.Discard()
		return
	}
	var err error
	if c.fault != nil {
		err = c.fault()
	}
	if err != nil {
		b.txn.Discard()
	} else {
		start := time.Now()
		err = b.txn.Commit()
		c.committed(len(in), time.Since(start))
	}
	if err != nil {
		c.guard.failed(err)
		err = fmt.Errorf("commit: %w", err)
		// A failed sync can leave the writes readable in the memtable, so
		// the sequences of this batch are never handed out again.
		c.seq = b.seq
		if rerr := c.counts.reload(c.db); rerr != nil {
			c.logger.Warn("store recount runs", "err", rerr)
		}
		for _, o := range in {
			o.finish(err)
		}
		return
	}
	c.seq = b.seq
	c.lastSeq.Store(b.seq)
	c.counts.add(b.counts)
	for _, o := range in {
		o.finish(nil)
	}
	if b.events > 0 {
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
}

// reclaimer is an op that only deletes (expiry). It still runs while the
// disk guard refuses writes: its tombstones are small, fit in the space the
// guard keeps free, and are how space comes back.
type reclaimer interface{ reclaims() }

// refuse finishes every op except reclaimers with err and returns those.
func refuse(ops []op, err error) []op {
	kept := ops[:0]
	for _, o := range ops {
		if _, ok := o.(reclaimer); ok {
			kept = append(kept, o)
			continue
		}
		o.finish(err)
	}
	clear(ops[len(kept):])
	return kept
}

// entryCost is Badger's own estimate of an entry in a transaction
// (Txn.checkSize): key, value, two meta bytes and the 8-byte version with
// some slack.
func entryCost(key, value int) int64 { return int64(key + value + 12) }

// expiresAt converts a TTL into Badger's expiry (Unix seconds), rounded up
// so a key lives at least ttl. Badger compares it with the real clock.
func expiresAt(ttl time.Duration) uint64 {
	if ttl <= 0 {
		return 0
	}
	t := time.Now().Add(ttl)
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return uint64(s)
}

// cleanError is returned by an op's apply when it failed before writing
// anything, so the batch need not be rebuilt without it.
type cleanError struct{ err error }

func (e cleanError) Error() string { return e.err.Error() }

func (e cleanError) Unwrap() error { return e.err }

// writeOp is the plumbing every op shares: the caller's context and the
// channel that carries its outcome.
type writeOp struct {
	c    context.Context
	done chan error
}

func newWriteOp(ctx context.Context) writeOp {
	return writeOp{c: ctx, done: make(chan error, 1)}
}

func (w *writeOp) ctx() context.Context { return w.c }

func (w *writeOp) finish(err error) { w.done <- err }
