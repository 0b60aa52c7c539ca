package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// casOp writes one key only while it holds old. Like kvOp it runs in the
// committer, the only writer, so the read and the write are one step.
type casOp struct {
	writeOp
	e       kvEntry
	old     []byte
	swapped bool
}

func (o *casOp) cost() (int64, int64) { return 1, entryCost(len(o.e.key), len(o.e.value)) }

func (o *casOp) apply(b *batch) error {
	o.swapped = false
	item, err := b.txn.Get(o.e.key)
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		if o.old != nil {
			return nil
		}
	case err != nil:
		return err
	default:
		if o.old == nil {
			return nil
		}
		cur, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		if !bytes.Equal(cur, o.old) {
			return nil
		}
	}
	if err := applyKVEntry(b.txn, o.e); err != nil {
		return err
	}
	o.swapped = true
	return nil
}

// CompareAndSwap implements KV.
func (k *badgerKV) CompareAndSwap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (bool, error) {
	e, err := newKVEntry(prefixKV, key, next, ttl)
	if err != nil {
		return false, fmt.Errorf("kv cas %q: %w", key, err)
	}
	o := &casOp{writeOp: newWriteOp(ctx), e: e, old: old}
	if err := (*Badger)(k).commit.submit(ctx, o, o.done); err != nil {
		return false, fmt.Errorf("kv cas %q: %w", key, err)
	}
	return o.swapped, nil
}
