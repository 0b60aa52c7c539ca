package jetstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/junctionhub/junction/core/store"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// guard checks each guarded KV write (store.KVWrite.Guard) against its
// key's value now and makes its message expect the subject's last
// sequence read here, so that the server refuses the whole batch if the
// key is written in between: the check and the write are one step on the
// stream leader. msgs are kvMsgs(kv), in the same order. A key that no
// longer holds what the caller expects fails with store.ErrConflict
// before anything is sent.
func (s *Store) guard(ctx context.Context, kv []store.KVWrite, msgs []*nats.Msg) error {
	for i, w := range kv {
		if !w.Guard {
			continue
		}
		cur, seq, err := s.readValue(ctx, msgs[i].Subject)
		if errors.Is(err, store.ErrNotFound) {
			cur, err = nil, nil
		}
		if err != nil {
			return fmt.Errorf("read guarded key %q: %w", w.Key, err)
		}
		if (cur == nil) != (w.Expect == nil) || !bytes.Equal(cur, w.Expect) {
			return fmt.Errorf("key %q: %w", w.Key, store.ErrConflict)
		}
		msgs[i].Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(seq, 10))
	}
	return nil
}

func guarded(kv []store.KVWrite) bool {
	for _, w := range kv {
		if w.Guard {
			return true
		}
	}
	return false
}

// publishGuarded publishes msgs, of which kvMsgs (the messages of kv) are
// the tail, checking kv's guards first; a batch the server refused because
// a guarded key was written in between is checked again, and fails with
// store.ErrConflict if the key no longer holds what is expected.
func (s *Store) publishGuarded(ctx context.Context, msgs []*nats.Msg, kv []store.KVWrite, kvMsgs []*nats.Msg) (uint64, error) {
	if !guarded(kv) {
		return s.publish(ctx, msgs)
	}
	for attempt := range casRetries {
		if err := casPause(ctx, attempt); err != nil {
			return 0, err
		}
		if err := s.guard(ctx, kv, kvMsgs); err != nil {
			return 0, err
		}
		first, err := s.publish(ctx, msgs)
		if !isWrongLast(err) {
			return first, err
		}
	}
	return 0, fmt.Errorf("guarded keys kept changing under %d attempts: %w", casRetries, store.ErrConflict)
}
