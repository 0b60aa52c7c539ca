package storetest

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
)

func init() {
	tests = append(tests,
		test{"CompareAndSwap", testCompareAndSwap},
		test{"CompareAndSwapConcurrent", testCompareAndSwapConcurrent},
	)
}

func b(s string) []byte { return []byte(s) }

func testCompareAndSwap(t *testing.T, _ Harness, s store.Store, _ string) {
	kv := s.KV()
	steps := []struct {
		name      string
		old, next []byte
		ttl       time.Duration
		want      bool
		after     string // value after the step; "-" absent
	}{
		{"absent, expects a value", b("x"), b("y"), 0, false, "-"},
		{"absent, expects absent", nil, b("a"), 0, true, "a"},
		{"present, expects absent", nil, b("b"), 0, false, "a"},
		{"wrong old", b("z"), b("b"), 0, false, "a"},
		{"right old", b("a"), b("b"), 0, true, "b"},
		{"to empty", b("b"), []byte{}, 0, true, ""},
		{"empty is not absent", nil, b("c"), 0, false, ""},
		{"from empty", []byte{}, b("c"), 0, true, "c"},
		{"delete with wrong old", b("a"), nil, 0, false, "c"},
		{"delete with right old", b("c"), nil, 0, true, "-"},
		{"set again after delete", nil, b("d"), time.Second, true, "d"},
	}
	for _, st := range steps {
		ok, err := kv.CompareAndSwap(ctx(t), "cas/key", st.old, st.next, st.ttl)
		if err != nil || ok != st.want {
			t.Fatalf("%s: CompareAndSwap = %v, %v; want %v", st.name, ok, err, st.want)
		}
		v, err := kv.Get(ctx(t), "cas/key")
		got := string(v)
		if err != nil {
			got = "-"
		}
		if got != st.after {
			t.Fatalf("%s: value %q after, want %q", st.name, got, st.after)
		}
	}
	// The TTL of the last swap holds: expired counts as absent.
	waitGone(t, kv, "cas/key")
	if ok, err := kv.CompareAndSwap(ctx(t), "cas/key", b("d"), b("e"), 0); err != nil || ok {
		t.Errorf("swap of an expired value = %v, %v; want refused", ok, err)
	}
	if ok, err := kv.CompareAndSwap(ctx(t), "cas/key", nil, b("e"), 0); err != nil || !ok {
		t.Errorf("swap of an expired key as absent = %v, %v; want done", ok, err)
	}
}

// testCompareAndSwapConcurrent races 16 swaps from one value: exactly one
// wins, and then a counter incremented by CAS loses no increment.
func testCompareAndSwapConcurrent(t *testing.T, _ Harness, s store.Store, _ string) {
	kv := s.KV()
	mustKV(t, kv, "cas/race", "0")
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			ok, err := kv.CompareAndSwap(ctx(t), "cas/race", b("0"), fmt.Appendf(nil, "w%d", i), 0)
			if err != nil {
				t.Errorf("CompareAndSwap: %v", err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent swaps from one value won, want exactly 1", wins.Load())
	}

	const workers, each = 4, 5
	for range workers {
		wg.Go(func() {
			for range each {
				for {
					cur, err := kv.Get(ctx(t), "cas/counter")
					n := 0
					if err == nil {
						n, _ = strconv.Atoi(string(cur))
					} else {
						cur = nil
					}
					ok, err := kv.CompareAndSwap(ctx(t), "cas/counter", cur, fmt.Appendf(nil, "%d", n+1), 0)
					if err != nil {
						t.Errorf("CompareAndSwap: %v", err)
						return
					}
					if ok {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	if v, err := kv.Get(ctx(t), "cas/counter"); err != nil || string(v) != fmt.Sprint(workers*each) {
		t.Errorf("counter = %q, %v; want %d", v, err, workers*each)
	}
}
