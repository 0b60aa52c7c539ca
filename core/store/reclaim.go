package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// pace waits as long as the last expiry batch took, so a long expiry
// takes at most about half of the store's time and ingest keeps the rest:
// expiry has days of slack, a sender waiting for its ack has none.
// Measured with BenchmarkIngestDuringExpiry (220k records expired under
// 64 writers, 2 cores): ingest p99 during expiry was 1.6-2.3x the quiet
// p99 unpaced, and is 1.4-1.6x paced.
func (x *Expirer) pace(ctx context.Context, took time.Duration) error {
	t := time.NewTimer(took)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-x.stop:
		return ErrClosed
	}
}

// flushMarker is a key no record uses; reclaim writes it and drops it to
// make Badger flush its memtable (see flushMemtable).
var flushMarker = []byte("reclaim/flush")

// reclaim gives the space of removed records back to the file system.
// Badger drops a deleted record only when a compaction merges its
// tombstone with it, and records its value-log garbage only then; and
// tombstones first sit in the memtable. So once a quarter of the data (at
// least 1 MiB) was removed, the tombstones are written to a table (by a
// memtable flush that traffic brought, or one forced here), the tree is
// flattened into one level, which drops the deleted keys and counts their
// values as garbage, and the value log is collected.
func (x *Expirer) reclaim(ctx context.Context, s *Sweep) error {
	if x.b.db.Opts().InMemory || x.pending == 0 {
		return nil
	}
	du, err := x.b.diskUsage()
	if err != nil {
		return fmt.Errorf("reclaim after expiry: %w", err)
	}
	if x.pending < max(du.DataBytes/4, 1<<20) {
		return nil
	}
	var newest uint64
	for _, t := range x.b.db.Tables() {
		newest = max(newest, t.ID)
	}
	if x.mark == 0 {
		x.mark = newest + 1 // tombstones are in the memtable, not yet in a table
	}
	if newest < x.mark {
		// With values in the value log, a memtable holds keys and
		// pointers only and fills slowly: waiting for traffic to flush
		// it could keep the space for days.
		if err := x.b.flushMemtable(ctx); err != nil {
			return err
		}
	}
	if err := x.b.flatten(); err != nil {
		return err
	}
	x.pending, x.mark = 0, 0
	s.Compacted = true
	return nil
}

// flushMemtable makes Badger write its memtable to a table now. Badger has
// no call for that alone, but DropPrefix flushes the memtable before it
// drops anything, when the prefix holds data: so a marker key is written
// and dropped. DropPrefix refuses writes (ErrBlockedWrites) instead of
// holding them while it flushes, so it runs on the committer's goroutine
// between two commits, where no write of the store is in flight: appends
// wait for the flush of one memtable (Options' MemTableSize, tens of
// milliseconds), which is why reclaim does it only when a quarter of the
// data is waiting for it.
func (b *Badger) flushMemtable(ctx context.Context) error {
	o := &exclusiveOp{writeOp: newWriteOp(ctx), fn: func() error {
		if err := b.db.Update(func(txn *badger.Txn) error { return txn.Set(flushMarker, nil) }); err != nil {
			return err
		}
		return b.db.DropPrefix(flushMarker)
	}}
	if err := b.commit.submit(ctx, o, o.done); err != nil {
		return fmt.Errorf("flush memtable after expiry: %w", err)
	}
	return nil
}

// exclusiveOp runs fn on the committer's goroutine, alone: the ops queued
// before it are committed first, those after it wait. It is a reclaimer,
// so it runs while the disk guard refuses writes.
type exclusiveOp struct {
	writeOp
	fn func() error
}

func isExclusive(o op) bool {
	_, ok := o.(*exclusiveOp)
	return ok
}

func (o *exclusiveOp) cost() (count, size int64) { return 0, 0 }

func (o *exclusiveOp) apply(*batch) error {
	return errors.New("store: an exclusive op joined a batch") // runPending never lets it
}

func (o *exclusiveOp) reclaims() {}

// flatten compacts every level into one and then collects the value log,
// unless the store is closing.
func (b *Badger) flatten() error {
	b.closing.RLock()
	defer b.closing.RUnlock()
	if b.closed {
		return ErrClosed
	}
	if err := b.db.Flatten(1); err != nil {
		return fmt.Errorf("compact after expiry: %w", err)
	}
	for {
		err := b.db.RunValueLogGC(0.5)
		if err == nil {
			continue
		}
		if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
			return nil
		}
		return fmt.Errorf("value log gc after expiry: %w", err)
	}
}
