package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

type badgerKV Badger

// kvEntry is a validated KV write with its Badger key.
type kvEntry struct {
	key   []byte
	value []byte // nil deletes
	ttl   time.Duration
	// guard: the write commits only while key holds expect (guard.go).
	guard  bool
	expect []byte
}

// maxKeyLen keeps keys well inside Badger's 65000-byte limit with room for
// the prefix.
const maxKeyLen = 60000

func prepareKV(kv []KVWrite) ([]kvEntry, error) {
	out := make([]kvEntry, 0, len(kv))
	for _, w := range kv {
		e, err := newKVEntry(prefixKV, w.Key, w.Value, w.TTL)
		if err != nil {
			return nil, err
		}
		e.guard, e.expect = w.Guard, w.Expect
		out = append(out, e)
	}
	return out, nil
}

func newKVEntry(prefix, key string, value []byte, ttl time.Duration) (kvEntry, error) {
	switch {
	case key == "":
		return kvEntry{}, errors.New("empty key")
	case len(key) > maxKeyLen:
		return kvEntry{}, fmt.Errorf("key of %d bytes: longer than %d", len(key), maxKeyLen)
	case ttl < 0:
		return kvEntry{}, fmt.Errorf("key %q: negative TTL %s", key, ttl)
	}
	return kvEntry{key: []byte(prefix + key), value: value, ttl: ttl}, nil
}

func applyKV(txn *badger.Txn, kv []kvEntry) error {
	for _, w := range kv {
		if err := applyKVEntry(txn, w); err != nil {
			return err
		}
	}
	return nil
}

func applyKVEntry(txn *badger.Txn, w kvEntry) error {
	if w.value == nil {
		return txn.Delete(w.key)
	}
	e := badger.NewEntry(w.key, w.value)
	e.ExpiresAt = expiresAt(w.ttl)
	return txn.SetEntry(e)
}

// kvOp writes one key; with nx it writes only when the key is absent and
// reports that in set. The committer is the only writer, so the check and
// the write cannot be interleaved with another SetNX: no lock, no retry.
type kvOp struct {
	writeOp
	e   kvEntry
	nx  bool
	set bool
}

func (o *kvOp) cost() (int64, int64) { return 1, entryCost(len(o.e.key), len(o.e.value)) }

func (o *kvOp) apply(b *batch) error {
	o.set = false
	if o.nx {
		_, err := b.txn.Get(o.e.key)
		if err == nil {
			return nil
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
	}
	if err := applyKVEntry(b.txn, o.e); err != nil {
		return err
	}
	o.set = true
	return nil
}

func (b *Badger) writeKey(ctx context.Context, e kvEntry, nx bool) (bool, error) {
	o := &kvOp{writeOp: newWriteOp(ctx), e: e, nx: nx}
	if err := b.commit.submit(ctx, o, o.done); err != nil {
		return false, err
	}
	return o.set, nil
}

// getKey reads one key, copying its value.
func (b *Badger) getKey(key []byte) ([]byte, error) {
	var out []byte
	err := b.view(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		out, err = item.ValueCopy(nil)
		return err
	})
	return out, err
}

// Get implements KV.
func (k *badgerKV) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, err := (*Badger)(k).getKey([]byte(prefixKV + key))
	if err != nil {
		return nil, fmt.Errorf("kv get %q: %w", key, err)
	}
	return v, nil
}

// Set implements KV. A ttl of zero keeps the key until deleted; Badger
// expires keys at whole seconds, so a TTL is rounded up to one.
func (k *badgerKV) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if value == nil {
		value = []byte{} // nil would mean delete to applyKVEntry
	}
	e, err := newKVEntry(prefixKV, key, value, ttl)
	if err == nil {
		_, err = (*Badger)(k).writeKey(ctx, e, false)
	}
	if err != nil {
		return fmt.Errorf("kv set %q: %w", key, err)
	}
	return nil
}

// SetNX implements KV.
func (k *badgerKV) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if value == nil {
		value = []byte{}
	}
	e, err := newKVEntry(prefixKV, key, value, ttl)
	var set bool
	if err == nil {
		set, err = (*Badger)(k).writeKey(ctx, e, true)
	}
	if err != nil {
		return false, fmt.Errorf("kv setnx %q: %w", key, err)
	}
	return set, nil
}

// Delete implements KV. Deleting an absent key is not an error.
func (k *badgerKV) Delete(ctx context.Context, key string) error {
	e, err := newKVEntry(prefixKV, key, nil, 0)
	if err == nil {
		_, err = (*Badger)(k).writeKey(ctx, e, false)
	}
	if err != nil {
		return fmt.Errorf("kv delete %q: %w", key, err)
	}
	return nil
}

// List implements KV. A limit of zero or less lists every key.
func (k *badgerKV) List(ctx context.Context, prefix string, limit int) ([]KVPair, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	full := []byte(prefixKV + prefix)
	var out []KVPair
	err := (*Badger)(k).view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = full
		if limit > 0 {
			opts.PrefetchSize = min(limit, opts.PrefetchSize)
		}
		it, done := iterate(txn, opts)
		defer done()
		for it.Seek(full); it.Valid(); it.Next() {
			if limit > 0 && len(out) >= limit {
				break
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			item := it.Item()
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			key := bytes.TrimPrefix(item.Key(), []byte(prefixKV))
			out = append(out, KVPair{Key: string(key), Value: v})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("kv list %q: %w", prefix, err)
	}
	return out, nil
}
