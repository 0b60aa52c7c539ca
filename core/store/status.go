package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/dgraph-io/badger/v4"
	"github.com/junctionhub/junction/core/event"
)

// DiskUsage is what the store's files take on disk. Sizes are allocated
// blocks, not file lengths: Badger creates its memtable WAL and value log
// files sparse, at twice their maximum size.
type DiskUsage struct {
	DataBytes     int64 `json:"dataBytes"`     // every file of the store
	LSMBytes      int64 `json:"lsmBytes"`      // tables (.sst)
	ValueLogBytes int64 `json:"valueLogBytes"` // value log (.vlog)
	WALBytes      int64 `json:"walBytes"`      // memtable write-ahead logs (.mem)
	FreeBytes     int64 `json:"freeBytes"`     // left on the file system
}

// Usage is the store's size and contents, for status reports.
type Usage struct {
	Disk DiskUsage `json:"disk"`
	// WriteError is why writes are refused now ("" when they are not).
	WriteError string `json:"writeError,omitempty"`
	Events     struct {
		Count  uint64       `json:"count"`
		Oldest *event.Event `json:"oldest,omitempty"` // payload left out
	} `json:"events"`
	Runs        map[string]int `json:"runs"` // by status
	DeadLetters int            `json:"deadLetters"`
	DedupKeys   int            `json:"dedupKeys"` // open dedup windows
}

// diskUsage sums the allocated size of the store's files.
func (b *Badger) diskUsage() (DiskUsage, error) {
	var u DiskUsage
	opts := b.db.Opts()
	if opts.InMemory {
		return u, nil
	}
	seen := map[string]bool{}
	for _, dir := range []string{opts.Dir, opts.ValueDir} {
		if seen[dir] {
			continue
		}
		seen[dir] = true
		ents, err := os.ReadDir(dir)
		if err != nil {
			return u, fmt.Errorf("disk usage of %s: %w", dir, err)
		}
		for _, e := range ents {
			fi, err := e.Info()
			if err != nil {
				continue // removed by a compaction meanwhile
			}
			n := fi.Size()
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n = st.Blocks * 512
			}
			u.DataBytes += n
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".sst":
				u.LSMBytes += n
			case ".vlog":
				u.ValueLogBytes += n
			case ".mem":
				u.WALBytes += n
			}
		}
	}
	if free, err := osDisk.Free(osDisk{}, opts.Dir); err == nil {
		u.FreeBytes = free
	}
	return u, nil
}

// Usage reports disk use, the oldest retained event and record counts.
// Counting dedup keys and dead letters walks their keys (no values).
func (b *Badger) Usage(ctx context.Context) (Usage, error) {
	var u Usage
	var err error
	if u.Disk, err = b.diskUsage(); err != nil {
		return u, err
	}
	if werr := b.WriteError(); werr != nil {
		u.WriteError = werr.Error()
	}
	u.Runs = b.counts.snapshot()
	err = b.view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(prefixLog)
		opts.PrefetchSize = 1
		it, done := iterate(txn, opts)
		defer done()
		it.Rewind()
		if it.Valid() {
			seq, err := seqOfLogKey(it.Item().Key())
			if err != nil {
				return err
			}
			var e event.Event
			if err := it.Item().Value(func(v []byte) error {
				e, err = decodeEvent(seq, v)
				return err
			}); err != nil {
				return err
			}
			e.Payload = nil
			u.Events.Oldest = &e
			// Only expiry deletes events, and it deletes the oldest: the
			// sequences that remain are contiguous.
			u.Events.Count = b.commit.lastSeq.Load() - seq + 1
		}
		var cerr error
		if u.DeadLetters, cerr = countKeys(ctx, txn, prefixIdxDead); cerr != nil {
			return cerr
		}
		u.DedupKeys, cerr = countKeys(ctx, txn, prefixDedup)
		return cerr
	})
	if err != nil {
		return u, fmt.Errorf("store usage: %w", err)
	}
	return u, nil
}

func countKeys(ctx context.Context, txn *badger.Txn, prefix string) (int, error) {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = []byte(prefix)
	opts.PrefetchValues = false
	it, done := iterate(txn, opts)
	defer done()
	n := 0
	for it.Rewind(); it.Valid(); it.Next() {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		n++
	}
	return n, nil
}

// WriteError returns why writes are refused now (wrapping ErrDiskFull and
// syscall.ENOSPC), or nil when they may go ahead. It checks the disk again,
// so readiness follows free space as soon as it returns.
func (b *Badger) WriteError() error {
	return b.commit.guard.check()
}
