package host

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// memKV is a minimal store.KV for tests, with an injectable clock for TTLs.
type memKV struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]memEntry
}

type memEntry struct {
	v   []byte
	exp time.Time
}

func newMemKV() *memKV {
	return &memKV{now: time.Now, m: map[string]memEntry{}}
}

func (k *memKV) live(key string) (memEntry, bool) {
	e, ok := k.m[key]
	if ok && !e.exp.IsZero() && !k.now().Before(e.exp) {
		delete(k.m, key)
		return memEntry{}, false
	}
	return e, ok
}

func (k *memKV) Get(_ context.Context, key string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.live(key)
	if !ok {
		return nil, store.ErrNotFound
	}
	return bytes.Clone(e.v), nil
}

func (k *memKV) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := memEntry{v: bytes.Clone(value)}
	if ttl > 0 {
		e.exp = k.now().Add(ttl)
	}
	k.m[key] = e
	return nil
}

func (k *memKV) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	k.mu.Lock()
	_, ok := k.live(key)
	k.mu.Unlock()
	if ok {
		return false, nil
	}
	return true, k.Set(ctx, key, value, ttl)
}

func (k *memKV) CompareAndSwap(_ context.Context, key string, old, next []byte, ttl time.Duration) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.live(key)
	if ok != (old != nil) || !bytes.Equal(e.v, old) {
		return false, nil
	}
	if next == nil {
		delete(k.m, key)
		return true, nil
	}
	e = memEntry{v: bytes.Clone(next)}
	if ttl > 0 {
		e.exp = k.now().Add(ttl)
	}
	k.m[key] = e
	return true, nil
}

func (k *memKV) Delete(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, key)
	return nil
}

func (k *memKV) List(_ context.Context, prefix string, limit int) ([]store.KVPair, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []store.KVPair
	for key := range k.m {
		if _, ok := k.live(key); ok && strings.HasPrefix(key, prefix) {
			out = append(out, store.KVPair{Key: key, Value: bytes.Clone(k.m[key].v)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

var _ store.KV = (*memKV)(nil)

func TestKVNamespacing(t *testing.T) {
	ctx := context.Background()
	backing := newMemKV()
	a := NewKV(backing, "crm-out")
	b := NewKV(backing, "orders-in")

	if err := a.Set(ctx, "cursor", []byte("42"), 0); err != nil {
		t.Fatal(err)
	}
	if v, found, err := a.Get(ctx, "cursor"); err != nil || !found || string(v) != "42" {
		t.Fatalf("a.Get(cursor) = %q, %v, %v; want 42, true, nil", v, found, err)
	}
	if _, found, err := b.Get(ctx, "cursor"); err != nil || found {
		t.Fatalf("b sees a's key: found=%v err=%v", found, err)
	}
	if raw, err := backing.Get(ctx, "conn/crm-out/cursor"); err != nil || string(raw) != "42" {
		t.Fatalf("backing key conn/crm-out/cursor = %q, %v", raw, err)
	}
	if err := a.Delete(ctx, "cursor"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := a.Get(ctx, "cursor"); found {
		t.Fatal("key survives Delete")
	}
	if err := a.Delete(ctx, "never-set"); err != nil {
		t.Fatalf("Delete of an absent key: %v", err)
	}
}

func TestKVPrefixIsInjective(t *testing.T) {
	ctx := context.Background()
	backing := newMemKV()
	// Without escaping, connection "a" key "b/x" and connection "a/b" key
	// "x" would be the same store key.
	if err := NewKV(backing, "a").Set(ctx, "b/x", []byte("from a"), 0); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := NewKV(backing, "a/b").Get(ctx, "x"); found {
		t.Fatal(`connection "a/b" reads connection "a"'s key`)
	}
	if got, want := KVPrefix("a/b"), "conn/a%2Fb/"; got != want {
		t.Errorf("KVPrefix(a/b) = %q, want %q", got, want)
	}
}

func TestKVTTL(t *testing.T) {
	ctx := context.Background()
	backing := newMemKV()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	backing.now = func() time.Time { return now }
	kv := NewKV(backing, "c")
	if err := kv.Set(ctx, "token", []byte("t"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := kv.Get(ctx, "token"); !found {
		t.Fatal("token missing before its TTL")
	}
	now = now.Add(time.Minute)
	if _, found, _ := kv.Get(ctx, "token"); found {
		t.Fatal("token present after its TTL")
	}
}

func TestKVLimits(t *testing.T) {
	ctx := context.Background()
	kv := NewKV(newMemKV(), "c")
	tests := []struct {
		name string
		do   func() error
	}{
		{"empty key get", func() error { _, _, err := kv.Get(ctx, ""); return err }},
		{"empty key set", func() error { return kv.Set(ctx, "", []byte("v"), 0) }},
		{"empty key delete", func() error { return kv.Delete(ctx, "") }},
		{"long key", func() error { return kv.Set(ctx, strings.Repeat("k", MaxKVKeyBytes+1), []byte("v"), 0) }},
		{"big value", func() error { return kv.Set(ctx, "k", make([]byte, MaxKVValueBytes+1), 0) }},
		{"negative ttl", func() error { return kv.Set(ctx, "k", []byte("v"), -time.Second) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			var pe *pluginsdk.Error
			if !errors.As(err, &pe) || pe.Retryable {
				t.Fatalf("err = %v, want a permanent *pluginsdk.Error", err)
			}
		})
	}
	if err := kv.Set(ctx, strings.Repeat("k", MaxKVKeyBytes), make([]byte, MaxKVValueBytes), 0); err != nil {
		t.Fatalf("Set at the limits: %v", err)
	}
}

type failingKV struct{ *memKV }

var errDisk = errors.New("disk on fire")

func (*failingKV) Get(context.Context, string) ([]byte, error) { return nil, errDisk }

func TestKVWrapsStoreErrors(t *testing.T) {
	kv := NewKV(&failingKV{newMemKV()}, "c")
	_, found, err := kv.Get(context.Background(), "k")
	if !errors.Is(err, errDisk) || found {
		t.Fatalf("Get = found %v, err %v; want errDisk wrapped", found, err)
	}
	if !strings.Contains(err.Error(), `connection c: kv get "k"`) {
		t.Errorf("error %q does not name the connection and key", err)
	}
}

// TestKVOverBadger runs the same namespacing against the real store.
func TestKVOverBadger(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{InMemory: true, SecretKey: bytes.Repeat([]byte{7}, 32),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	a, b := NewKV(st.KV(), "crm-out"), NewKV(st.KV(), "orders-in")
	if err := a.Set(ctx, "token", []byte("t-1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if v, found, err := a.Get(ctx, "token"); err != nil || !found || string(v) != "t-1" {
		t.Fatalf("a.Get = %q, %v, %v", v, found, err)
	}
	if _, found, err := b.Get(ctx, "token"); err != nil || found {
		t.Fatalf("b.Get = found %v, err %v; want not found", found, err)
	}
	pairs, err := st.KV().List(ctx, "conn/", 0)
	if err != nil || len(pairs) != 1 || pairs[0].Key != "conn/crm-out/token" {
		t.Fatalf("store keys under conn/ = %+v, %v", pairs, err)
	}
	if err := a.Delete(ctx, "token"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := a.Get(ctx, "token"); found {
		t.Fatal("key survives Delete")
	}
}
