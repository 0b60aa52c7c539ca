package store

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// checkGuards refuses a write whose guarded KV writes find their keys
// changed. It runs inside the committer's transaction before the op writes
// anything, so the check and the write are one step: the committer is the
// only writer, and Txn.Get sees the batch's earlier ops too.
func checkGuards(txn *badger.Txn, kv []kvEntry) error {
	for _, w := range kv {
		if !w.guard {
			continue
		}
		var cur []byte
		item, err := txn.Get(w.key)
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
		case err != nil:
			return fmt.Errorf("read guarded key %q: %w", w.key[len(prefixKV):], err)
		default:
			if cur, err = item.ValueCopy(nil); err != nil {
				return fmt.Errorf("read guarded key %q: %w", w.key[len(prefixKV):], err)
			}
			if cur == nil {
				cur = []byte{}
			}
		}
		if (cur == nil) != (w.expect == nil) || !bytes.Equal(cur, w.expect) {
			return fmt.Errorf("key %q: %w", w.key[len(prefixKV):], ErrConflict)
		}
	}
	return nil
}
