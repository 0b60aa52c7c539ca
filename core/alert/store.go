package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/junctionhub/junction/core/store"
)

// KV keys (see doc.go).
const (
	statePrefix = "alert/state/"
	recentKey   = "alert/recent"
)

func stateKey(name string) string { return statePrefix + url.PathEscape(name) }

// loadState returns the alert's stored state, or nil when none is stored
// or it cannot be read (then the alert starts afresh).
func loadState(ctx context.Context, kv store.KV, name string) (*state, error) {
	b, err := kv.Get(ctx, stateKey(name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load state of alert %s: %w", name, err)
	}
	var st state
	if json.Unmarshal(b, &st) != nil {
		return nil, nil
	}
	return &st, nil
}

func saveState(ctx context.Context, kv store.KV, name string, st *state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode state of alert %s: %w", name, err)
	}
	if err := kv.Set(ctx, stateKey(name), b, 0); err != nil {
		return fmt.Errorf("save state of alert %s: %w", name, err)
	}
	return nil
}

func deleteState(ctx context.Context, kv store.KV, name string) error {
	if err := kv.Delete(ctx, stateKey(name)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete state of removed alert %s: %w", name, err)
	}
	return nil
}

// loadRecent returns the stored recent notices, oldest first. A notice
// still queued when Junction stopped was not sent.
func loadRecent(ctx context.Context, kv store.KV) ([]*Notice, error) {
	b, err := kv.Get(ctx, recentKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load recent alert notices: %w", err)
	}
	var out []*Notice
	if json.Unmarshal(b, &out) != nil {
		return nil, nil
	}
	for _, n := range out {
		if n.Delivery == "queued" {
			n.Delivery, n.Error = "failed", "Junction stopped before it was sent"
		}
	}
	return out, nil
}

func saveRecent(ctx context.Context, kv store.KV, recent []*Notice) error {
	b, err := json.Marshal(recent)
	if err != nil {
		return fmt.Errorf("encode recent alert notices: %w", err)
	}
	if err := kv.Set(ctx, recentKey, b, 0); err != nil {
		return fmt.Errorf("save recent alert notices: %w", err)
	}
	return nil
}
