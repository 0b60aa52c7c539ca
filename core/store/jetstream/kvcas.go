package jetstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// CompareAndSwap implements store.KV as a CAS on the key's subject: it
// reads the value and the subject's last sequence, and the write expects
// that sequence, so a write by another node in between refuses it. A
// refused write reads again: if the value is no longer old, the swap is
// lost; if it still is (rewritten with the same bytes), it tries again.
func (k *jsKV) CompareAndSwap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (bool, error) {
	s := (*Store)(k)
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return false, fmt.Errorf("kv cas %q: %w", key, err)
	}
	defer cancel()
	if err := checkKey(key, ttl); err != nil {
		return false, fmt.Errorf("kv cas: %w", err)
	}
	subj := s.kvSubj(key)
	for attempt := range casRetries {
		if err := casPause(ctx, attempt); err != nil {
			return false, fmt.Errorf("kv cas %q: %w", key, err)
		}
		cur, seq, err := s.readValue(ctx, subj)
		if errors.Is(err, store.ErrNotFound) {
			cur, err = nil, nil
		}
		if err != nil {
			return false, fmt.Errorf("kv cas %q: %w", key, err)
		}
		if (old == nil) != (cur == nil) || !bytes.Equal(cur, old) {
			return false, nil
		}
		if next == nil && cur == nil {
			return true, nil // deleting an absent key: nothing to write
		}
		m := s.kvMsg(subj, next, ttl)
		m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(seq, 10))
		_, err = s.publish(ctx, []*nats.Msg{m})
		if isWrongLast(err) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("kv cas %q: %w", key, err)
		}
		return true, nil
	}
	return false, fmt.Errorf("kv cas %q: the key kept changing under %d attempts", key, casRetries)
}
