package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/junctionhub/junction/core/store"
)

func init() {
	tests = append(tests,
		test{"GuardedWrite", testGuardedWrite},
		test{"GuardedWriteConcurrent", testGuardedWriteConcurrent},
	)
}

// guardKV is the dispatcher's cursor write: value next, committed only
// while the key holds expect.
func guardKV(key string, expect []byte, next string) []store.KVWrite {
	return []store.KVWrite{{Key: key, Value: []byte(next), Guard: true, Expect: expect}}
}

// testGuardedWrite: a write with a guarded KV write commits whole while the
// key holds what it expects, and otherwise fails with ErrConflict and
// commits nothing (Runs.Create and Log.AppendWithKV alike).
func testGuardedWrite(t *testing.T, _ Harness, s store.Store, _ string) {
	runs, kv, l := s.Runs(), s.KV(), s.Log()
	const key = "guard/cursor"
	first := newRun("wf", store.StatusQueued)
	if err := runs.Create(ctx(t), []*store.Run{first}, guardKV(key, nil, "1")); err != nil {
		t.Fatalf("Create expecting an absent key: %v", err)
	}
	steps := []struct {
		name   string
		expect []byte
		ok     bool
	}{
		{"absent, but set", nil, false},
		{"stale value", b("0"), false},
		{"empty, but set", b(""), false},
		{"current value", b("1"), true},
	}
	for i, st := range steps {
		next := fmt.Sprint(i + 2)
		r := newRun("wf", store.StatusQueued)
		before, _ := kv.Get(ctx(t), key)
		err := runs.Create(ctx(t), []*store.Run{r}, guardKV(key, st.expect, next))
		if st.ok != (err == nil) || !st.ok && !errors.Is(err, store.ErrConflict) {
			t.Fatalf("%s: Create err %v, want ok=%v or ErrConflict", st.name, err, st.ok)
		}
		_, gerr := runs.Get(ctx(t), r.ID)
		v, _ := kv.Get(ctx(t), key)
		if st.ok && (gerr != nil || string(v) != next) {
			t.Errorf("%s: run %v, key %q after a committed guarded Create", st.name, gerr, v)
		}
		if !st.ok && (!errors.Is(gerr, store.ErrNotFound) || string(v) != string(before)) {
			t.Errorf("%s: refused Create left run (err %v) or changed the key to %q", st.name, gerr, v)
		}
	}
	// The same guard on an append: refused, no event is written.
	mustAppend(t, l, ev("c", `{"n":0}`))
	last := l.LastSeq()
	if _, err := l.AppendWithKV(ctx(t), []store.AppendRequest{ev("c", `{"n":1}`)}, guardKV(key, b("1"), "9")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("AppendWithKV with a stale guard: err %v, want ErrConflict", err)
	}
	if got := readAll(t, l); len(got) != 1 || l.LastSeq() != last {
		t.Errorf("refused AppendWithKV wrote events: %v", got)
	}
	if _, err := l.AppendWithKV(ctx(t), []store.AppendRequest{ev("c", `{"n":2}`)}, guardKV(key, b("5"), "6")); err != nil {
		t.Fatalf("AppendWithKV with the current value: %v", err)
	}
	if v, _ := kv.Get(ctx(t), key); string(v) != "6" || len(readAll(t, l)) != 2 {
		t.Errorf("guarded AppendWithKV: key %q, events %v", v, readAll(t, l))
	}
}

// testGuardedWriteConcurrent: of writers racing with the same expected
// value, exactly one commits; the others get ErrConflict and their runs do
// not exist (two dispatchers cannot both dispatch one batch of events).
func testGuardedWriteConcurrent(t *testing.T, _ Harness, s store.Store, _ string) {
	runs := s.Runs()
	const key = "guard/race"
	if err := s.KV().Set(ctx(t), key, b("10"), 0); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	made := make([]*store.Run, n)
	for i := range n {
		made[i] = newRun("wf", store.StatusQueued)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = runs.Create(ctx(t), []*store.Run{made[i]}, guardKV(key, b("10"), fmt.Sprint(20+i)))
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		_, gerr := runs.Get(ctx(t), made[i].ID)
		switch {
		case err == nil:
			won++
			if gerr != nil {
				t.Errorf("winner's run: %v", gerr)
			}
		case errors.Is(err, store.ErrConflict):
			if !errors.Is(gerr, store.ErrNotFound) {
				t.Errorf("loser %d's run exists (err %v)", i, gerr)
			}
		default:
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d guarded writes committed, want exactly 1", won)
	}
}
