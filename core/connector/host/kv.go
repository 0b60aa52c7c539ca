package host

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// Limits of the connector KV. It is meant for cursors, tokens and small
// state, not for bulk data: the event log is the place for records.
const (
	MaxKVKeyBytes   = 1 << 10
	MaxKVValueBytes = 1 << 20
)

// KV is the pluginsdk.KV a connection's connector is given: every key lives
// under "conn/<connection>/" in the hub's store, so one connection cannot
// read or overwrite another's state.
type KV struct {
	kv     store.KV
	prefix string
	conn   string
}

var _ pluginsdk.KV = (*KV)(nil)

// KVPrefix returns the store key prefix of a connection's KV. The name is
// path-escaped so that the mapping is injective: connection "a/b" cannot
// reach the keys of connection "a".
func KVPrefix(connection string) string {
	return "conn/" + url.PathEscape(connection) + "/"
}

// NewKV returns the KV of connection over kv.
func NewKV(kv store.KV, connection string) *KV {
	return &KV{kv: kv, prefix: KVPrefix(connection), conn: connection}
}

func (k *KV) key(key string) (string, error) {
	switch {
	case key == "":
		return "", pluginsdk.Errorf("connection %s: kv key is empty", k.conn)
	case len(key) > MaxKVKeyBytes:
		return "", pluginsdk.Errorf("connection %s: kv key is %d bytes, over the %d-byte limit", k.conn, len(key), MaxKVKeyBytes)
	}
	return k.prefix + key, nil
}

// Get returns the value of key; found is false when it is absent or expired.
func (k *KV) Get(ctx context.Context, key string) ([]byte, bool, error) {
	full, err := k.key(key)
	if err != nil {
		return nil, false, err
	}
	v, err := k.kv.Get(ctx, full)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("connection %s: kv get %q: %w", k.conn, key, err)
	}
	return v, true, nil
}

// Set stores value under key; ttl 0 keeps it until deleted.
func (k *KV) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	full, err := k.key(key)
	if err != nil {
		return err
	}
	if len(value) > MaxKVValueBytes {
		return pluginsdk.Errorf("connection %s: kv value for %q is %d bytes, over the %d-byte limit", k.conn, key, len(value), MaxKVValueBytes)
	}
	if ttl < 0 {
		return pluginsdk.Errorf("connection %s: kv ttl for %q is negative (%s)", k.conn, key, ttl)
	}
	if err := k.kv.Set(ctx, full, value, ttl); err != nil {
		return fmt.Errorf("connection %s: kv set %q: %w", k.conn, key, err)
	}
	return nil
}

// Delete removes key; deleting an absent key is not an error.
func (k *KV) Delete(ctx context.Context, key string) error {
	full, err := k.key(key)
	if err != nil {
		return err
	}
	if err := k.kv.Delete(ctx, full); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("connection %s: kv delete %q: %w", k.conn, key, err)
	}
	return nil
}
