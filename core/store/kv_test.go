package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

func TestKV(t *testing.T) {
	s, _ := openTest(t)
	kv := s.KV()
	ctx := context.Background()
	for _, k := range []string{"sched/b", "sched/a", "cursor/x", "sched/c"} {
		if err := kv.Set(ctx, k, []byte("v-"+k), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := kv.Set(ctx, "empty", nil, 0); err != nil {
		t.Fatal(err)
	}
	if err := kv.Set(ctx, "sched/b", []byte("new"), 0); err != nil {
		t.Fatal(err)
	}
	if err := kv.Delete(ctx, "sched/c"); err != nil {
		t.Fatal(err)
	}
	if err := kv.Delete(ctx, "never-set"); err != nil {
		t.Errorf("Delete of an absent key: %v", err)
	}

	gets := []struct {
		key, want string
		err       error
	}{
		{key: "sched/a", want: "v-sched/a"},
		{key: "sched/b", want: "new"},
		{key: "empty", want: ""},
		{key: "sched/c", err: ErrNotFound},
		{key: "nope", err: ErrNotFound},
	}
	for _, g := range gets {
		v, err := kv.Get(ctx, g.key)
		if !errors.Is(err, g.err) || (err == nil && string(v) != g.want) {
			t.Errorf("Get(%s) = %q, %v; want %q, %v", g.key, v, err, g.want, g.err)
		}
	}

	lists := []struct {
		prefix string
		limit  int
		want   string
	}{
		{prefix: "sched/", want: "[{sched/a v-sched/a} {sched/b new}]"},
		{prefix: "sched/", limit: 1, want: "[{sched/a v-sched/a}]"},
		{prefix: "", want: "[{cursor/x v-cursor/x} {empty } {sched/a v-sched/a} {sched/b new}]"},
		{prefix: "zzz", want: "[]"},
	}
	for _, l := range lists {
		got, err := kv.List(ctx, l.prefix, l.limit)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, p := range got {
			s = append(s, fmt.Sprintf("{%s %s}", p.Key, p.Value))
		}
		if fmt.Sprintf("[%s]", strings.Join(s, " ")) != l.want {
			t.Errorf("List(%q, %d) = %v, want %s", l.prefix, l.limit, s, l.want)
		}
	}
	// KV keys are separate from the store's own keys.
	if got, _ := kv.List(ctx, "", 0); len(got) != 4 {
		t.Errorf("List of everything = %d keys, want 4", len(got))
	}
}

func TestKVSetNX(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	const n = 32
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.KV().SetNX(ctx, "lock", []byte(fmt.Sprint(i)), 0)
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d SetNX calls won, want exactly 1", won.Load())
	}
	if ok, err := s.KV().SetNX(ctx, "lock", []byte("late"), 0); ok || err != nil {
		t.Errorf("SetNX on a held key = %v, %v", ok, err)
	}
	if err := s.KV().Delete(ctx, "lock"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.KV().SetNX(ctx, "lock", []byte("again"), 0); !ok || err != nil {
		t.Errorf("SetNX after Delete = %v, %v", ok, err)
	}
}

func TestKVTTL(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	if err := s.KV().Set(ctx, "short", []byte("x"), time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.KV().Set(ctx, "long", []byte("y"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.KV().SetNX(ctx, "nx", []byte("z"), time.Second); !ok || err != nil {
		t.Fatalf("SetNX = %v, %v", ok, err)
	}
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(prefixKV + "long"))
		if err != nil {
			return err
		}
		if left := time.Until(time.Unix(int64(item.ExpiresAt()), 0)); left < 59*time.Minute || left > time.Hour+time.Second {
			t.Errorf("an hour's TTL expires in %s", left)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.KV().Set(ctx, "neg", []byte("x"), -time.Second); err == nil {
		t.Error("Set with a negative TTL succeeded")
	}

	// Badger expires at whole seconds: a 1s TTL is gone within 2s.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, errShort := s.KV().Get(ctx, "short")
		_, errNX := s.KV().Get(ctx, "nx")
		if errors.Is(errShort, ErrNotFound) && errors.Is(errNX, ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("1s TTL keys still there after 5s: %v, %v", errShort, errNX)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v, err := s.KV().Get(ctx, "long"); err != nil || string(v) != "y" {
		t.Errorf("long-lived key = %q, %v", v, err)
	}
	// An expired key is absent for SetNX too.
	if ok, err := s.KV().SetNX(ctx, "nx", []byte("again"), 0); !ok || err != nil {
		t.Errorf("SetNX over an expired key = %v, %v", ok, err)
	}
}
