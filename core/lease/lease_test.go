package lease

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// backends open a fresh store of each kind the lease must work on.
var backends = []struct {
	name string
	open func(t testing.TB) store.KV
}{
	{"badger", func(t testing.TB) store.KV {
		s, err := store.Open(context.Background(), t.TempDir(), store.Options{Logger: quiet, SecretKey: bytes.Repeat([]byte{1}, store.SecretKeySize)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s.KV()
	}},
	{"jetstream-r1", func(t testing.TB) store.KV {
		c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
		t.Cleanup(c.Shutdown)
		s, err := jetstream.Open(context.Background(), jetstream.Options{URL: c.URL(), Replicas: 1, SecretKey: bytes.Repeat([]byte{1}, store.SecretKeySize), Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s.KV()
	}},
}

func leasers(kv store.KV, n int) []*Leaser {
	out := make([]*Leaser, n)
	for i := range out {
		out[i] = New(Options{KV: kv, TTL: time.Second, Owner: "node" + strconv.Itoa(i), Logger: quiet})
	}
	return out
}

func acquire(t *testing.T, l *Leaser, name string) *Lease {
	t.Helper()
	x, err := l.Acquire(context.Background(), name)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	return x
}

// eventually retries f until it holds; the deadline only stops a broken
// lease from hanging the test.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var cases = []struct {
	name string
	fn   func(t *testing.T, kv store.KV)
}{
	{"one holder, release hands over with a higher token", func(t *testing.T, kv store.KV) {
		ls := leasers(kv, 2)
		a := acquire(t, ls[0], "job")
		if a == nil || a.Token() != 1 {
			t.Fatalf("first Acquire = %v, want token 1", a)
		}
		if b := acquire(t, ls[1], "job"); b != nil {
			t.Fatalf("second holder got the lease with token %d", b.Token())
		}
		if err := a.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
		if a.Context().Err() == nil {
			t.Error("a released lease's context is still live")
		}
		b := acquire(t, ls[1], "job")
		if b == nil || b.Token() <= a.Token() {
			t.Fatalf("Acquire after release = %v, want a token above %d", b, a.Token())
		}
		_ = b.Release(context.Background())
	}},
	{"renewal keeps the lease past its TTL", func(t *testing.T, kv store.KV) {
		ls := leasers(kv, 2)
		a := acquire(t, ls[0], "job")
		time.Sleep(2500 * time.Millisecond) // 2.5 TTLs: only renewals keep it
		if b := acquire(t, ls[1], "job"); b != nil {
			t.Fatal("a renewed lease was taken over")
		}
		if a.Context().Err() != nil {
			t.Fatalf("renewed lease ended: %v", context.Cause(a.Context()))
		}
		_ = a.Release(context.Background())
	}},
	{"holder dies, another node takes over after the TTL", func(t *testing.T, kv store.KV) {
		ls := leasers(kv, 2)
		a := acquire(t, ls[0], "job")
		ls[0].Abandon()
		if !errors.Is(context.Cause(a.Context()), ErrLost) {
			t.Fatalf("a dead holder's work context: %v, want ErrLost", context.Cause(a.Context()))
		}
		if b := acquire(t, ls[1], "job"); b != nil {
			t.Fatal("taken over before the TTL passed")
		}
		var b *Lease
		eventually(t, "takeover", func() bool { b = acquire(t, ls[1], "job"); return b != nil })
		if b.Token() <= a.Token() {
			t.Errorf("new holder's token %d not above the dead one's %d", b.Token(), a.Token())
		}
		_ = b.Release(context.Background())
	}},
	{"a holder whose lease was taken stops its work", func(t *testing.T, kv store.KV) {
		ls := leasers(kv, 1)
		a := acquire(t, ls[0], "job")
		// As if the lease had expired and another node had won it.
		if err := kv.Set(context.Background(), Key("job"), []byte(`{"owner":"other","token":99}`), 0); err != nil {
			t.Fatal(err)
		}
		eventually(t, "lost", func() bool { return a.Context().Err() != nil })
		if !a.Lost() {
			t.Errorf("cause %v, want ErrLost", context.Cause(a.Context()))
		}
		_ = a.Release(context.Background())
		if v, _ := kv.Get(context.Background(), Key("job")); !bytes.Contains(v, []byte("other")) {
			t.Errorf("a lost lease's release removed the new holder's key: %q", v)
		}
	}},
	{"concurrent acquires: one holder", func(t *testing.T, kv store.KV) {
		ls := leasers(kv, 8)
		var wins atomic.Int32
		var mu sync.Mutex
		var held []*Lease
		var wg sync.WaitGroup
		for _, l := range ls {
			wg.Go(func() {
				if x := acquire(t, l, "job"); x != nil {
					wins.Add(1)
					mu.Lock()
					held = append(held, x)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d concurrent holders, want 1", wins.Load())
		}
		_ = held[0].Release(context.Background())
	}},
	{"an acquirer overtaken on every try still holds, with the highest token", func(t *testing.T, kv store.KV) {
		ctx := context.Background()
		other := leasers(kv, 1)[0]
		var last uint64 // the token of the holder that came and went
		over := &overtakingKV{KV: kv, before: func() {
			x := acquire(t, other, "job")
			if x == nil {
				t.Fatal("the overtaking node did not get the free lease")
			}
			last = x.Token()
			if err := x.Release(ctx); err != nil {
				t.Fatal(err)
			}
		}}
		l := New(Options{KV: over, TTL: time.Second, Owner: "overtaken", Logger: quiet})
		x := acquire(t, l, "job")
		if x == nil {
			t.Fatal("no holder: the overtaken node gave the free lease up")
		}
		defer x.Release(ctx)
		if x.Token() <= last {
			t.Errorf("token %d, not above the earlier holder's %d", x.Token(), last)
		}
		v, err := kv.Get(ctx, Key("job"))
		if err != nil || !bytes.Contains(v, []byte(`"token":`+strconv.FormatUint(x.Token(), 10)+`,`)) {
			t.Errorf("lease key holds %q (%v), want token %d", v, err, x.Token())
		}
	}},
	{"fenced writes refuse an older token", func(t *testing.T, kv store.KV) {
		tokenOf := func(b []byte) uint64 {
			n, _ := strconv.ParseUint(string(bytes.SplitN(b, []byte(":"), 2)[0]), 10, 64)
			return n
		}
		ctx := context.Background()
		steps := []struct {
			token  uint64
			fenced bool
		}{{2, false}, {3, false}, {3, false}, {2, true}, {5, false}, {4, true}}
		for _, st := range steps {
			err := FencedSet(ctx, kv, "state", st.token, []byte(strconv.FormatUint(st.token, 10)+":v"), tokenOf)
			if errors.Is(err, ErrFenced) != st.fenced || (err != nil && !st.fenced) {
				t.Fatalf("FencedSet(token %d) = %v, fenced want %v", st.token, err, st.fenced)
			}
		}
		if v, _ := kv.Get(ctx, "state"); string(v) != "5:v" {
			t.Errorf("state = %q, want the newest token's", v)
		}
	}},
	{"Do runs under the lease and releases it", func(t *testing.T, kv store.KV) {
		ls := leasers(kv, 2)
		ran, err := ls[0].Do(context.Background(), "job", func(ctx context.Context, token uint64) error {
			if again, _ := ls[1].Do(ctx, "job", func(context.Context, uint64) error { return nil }); again {
				t.Error("a second node ran while the lease was held")
			}
			if token == 0 {
				t.Error("no token passed to the work")
			}
			return nil
		})
		if !ran || err != nil {
			t.Fatalf("Do = %v, %v", ran, err)
		}
		if ran, _ := ls[1].Do(context.Background(), "job", func(context.Context, uint64) error { return nil }); !ran {
			t.Error("lease not released after Do")
		}
	}},
}

func TestLease(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, be.open(t)) })
			}
		})
	}
}

// TestForgetDead: a Badger store's leases at start are a dead process's
// and go; a shared store's stay.
func TestForgetDead(t *testing.T) {
	ctx := context.Background()
	bs, err := store.Open(ctx, t.TempDir(), store.Options{Logger: quiet, SecretKey: bytes.Repeat([]byte{1}, store.SecretKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bs.Close() })
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	js, err := jetstream.Open(ctx, jetstream.Options{URL: c.URL(), Replicas: 1, SecretKey: bytes.Repeat([]byte{1}, store.SecretKeySize), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js.Close() })
	for _, tc := range []struct {
		name string
		st   store.Store
		kept bool
	}{{"badger", bs, false}, {"jetstream", js, true}} {
		t.Run(tc.name, func(t *testing.T) {
			l := New(Options{KV: tc.st.KV(), Logger: quiet})
			if x := acquire(t, l, "job"); x == nil {
				t.Fatal("not acquired")
			}
			l.Abandon()
			if err := ForgetDead(ctx, tc.st); err != nil {
				t.Fatal(err)
			}
			if x := acquire(t, New(Options{KV: tc.st.KV(), Logger: quiet}), "job"); (x == nil) != tc.kept {
				t.Errorf("lease after ForgetDead: taken %v, want kept %v", x == nil, tc.kept)
			}
		})
	}
}

// overtakingKV runs before ahead of every SetNX: another node takes a
// later token, holds the lease and releases it, between this node's token
// and its SetNX.
type overtakingKV struct {
	store.KV
	before func()
}

func (k *overtakingKV) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	k.before()
	return k.KV.SetNX(ctx, key, value, ttl)
}
