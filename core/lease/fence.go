package lease

import (
	"context"
	"errors"
	"fmt"

	"github.com/junctionhub/junction/core/store"
)

// ErrFenced refuses a write by a holder whose token is older than the one
// the value was last written under: that holder lost its lease.
var ErrFenced = errors.New("fenced: written under a newer lease token")

// FencedSet writes value to key unless the value stored there was written
// under a higher token; tokenOf reads the token out of a stored value
// (the caller keeps the token inside its own encoding). The read and the
// write are one CompareAndSwap, so a stale holder cannot slip in between.
func FencedSet(ctx context.Context, kv store.KV, key string, token uint64, value []byte, tokenOf func([]byte) uint64) error {
	for range 64 {
		cur, err := kv.Get(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			cur = nil
		case err != nil:
			return fmt.Errorf("fenced set %q: %w", key, err)
		case tokenOf(cur) > token:
			return fmt.Errorf("fenced set %q with token %d: %w", key, token, ErrFenced)
		}
		ok, err := kv.CompareAndSwap(ctx, key, cur, value, 0)
		if err != nil {
			return fmt.Errorf("fenced set %q: %w", key, err)
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("fenced set %q: the key kept changing", key)
}
