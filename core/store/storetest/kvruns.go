package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/oklog/ulid/v2"
)

func mustKV(t *testing.T, kv store.KV, key, value string) {
	t.Helper()
	if err := kv.Set(ctx(t), key, []byte(value), 0); err != nil {
		t.Fatalf("Set(%s): %v", key, err)
	}
}

func testKV(t *testing.T, _ Harness, s store.Store, _ string) {
	kv := s.KV()
	if _, err := kv.Get(ctx(t), "a/b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get of an absent key: err %v, want ErrNotFound", err)
	}
	for _, key := range []string{"a/b", "with space.and.dots*>", "ünï/cödé", "x"} {
		mustKV(t, kv, key, "v1:"+key)
		mustKV(t, kv, key, "v2:"+key)
		if v, err := kv.Get(ctx(t), key); err != nil || string(v) != "v2:"+key {
			t.Errorf("Get(%q) = %q, %v", key, v, err)
		}
	}
	if err := kv.Set(ctx(t), "empty", nil, 0); err != nil {
		t.Fatal(err)
	}
	if v, err := kv.Get(ctx(t), "empty"); err != nil || len(v) != 0 {
		t.Errorf("Get of a key set to nil = %q, %v; want an empty value", v, err)
	}
	if err := kv.Delete(ctx(t), "a/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx(t), "a/b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete: err %v, want ErrNotFound", err)
	}
	if err := kv.Delete(ctx(t), "never-set"); err != nil {
		t.Errorf("Delete of an absent key: %v", err)
	}
	for _, bad := range []struct {
		key string
		ttl time.Duration
	}{{"", 0}, {"k", -time.Second}} {
		if err := kv.Set(ctx(t), bad.key, []byte("x"), bad.ttl); err == nil {
			t.Errorf("Set(%q, ttl %s): want an error", bad.key, bad.ttl)
		}
	}
}

// waitGone polls until key is absent; stores may expire at whole seconds.
func waitGone(t *testing.T, kv store.KV, key string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := kv.Get(ctx(t), key)
		if errors.Is(err, store.ErrNotFound) {
			return
		}
		if err != nil {
			t.Fatalf("Get(%s): %v", key, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never expired", key)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func testKVTTL(t *testing.T, _ Harness, s store.Store, _ string) {
	kv := s.KV()
	if err := kv.Set(ctx(t), "short", []byte("x"), time.Second); err != nil {
		t.Fatal(err)
	}
	mustKV(t, kv, "forever", "y")
	if v, err := kv.Get(ctx(t), "short"); err != nil || string(v) != "x" {
		t.Fatalf("Get before expiry = %q, %v", v, err)
	}
	waitGone(t, kv, "short")
	if v, err := kv.Get(ctx(t), "forever"); err != nil || string(v) != "y" {
		t.Errorf("key without TTL = %q, %v", v, err)
	}
	// A new value without TTL replaces one with TTL for good.
	if err := kv.Set(ctx(t), "renewed", []byte("1"), time.Second); err != nil {
		t.Fatal(err)
	}
	mustKV(t, kv, "renewed", "2")
	time.Sleep(2500 * time.Millisecond)
	if v, err := kv.Get(ctx(t), "renewed"); err != nil || string(v) != "2" {
		t.Errorf("key rewritten without TTL = %q, %v; want 2", v, err)
	}
	if pairs, err := kv.List(ctx(t), "short", 0); err != nil || len(pairs) != 0 {
		t.Errorf("List shows an expired key: %v, %v", pairs, err)
	}
}

func testSetNX(t *testing.T, _ Harness, s store.Store, _ string) {
	kv := s.KV()
	steps := []struct {
		key, value string
		ttl        time.Duration
		want       bool
	}{
		{"lock", "a", 0, true},
		{"lock", "b", 0, false},
		{"lease", "a", time.Second, true},
		{"lease", "b", time.Second, false},
	}
	for _, st := range steps {
		set, err := kv.SetNX(ctx(t), st.key, []byte(st.value), st.ttl)
		if err != nil || set != st.want {
			t.Fatalf("SetNX(%s, %s) = %v, %v; want %v", st.key, st.value, set, err, st.want)
		}
	}
	if v, _ := kv.Get(ctx(t), "lock"); string(v) != "a" {
		t.Errorf("lock = %q, want the first value", v)
	}
	waitGone(t, kv, "lease")
	if set, err := kv.SetNX(ctx(t), "lease", []byte("c"), 0); err != nil || !set {
		t.Errorf("SetNX after expiry = %v, %v; want set", set, err)
	}
	if err := kv.Delete(ctx(t), "lock"); err != nil {
		t.Fatal(err)
	}
	if set, err := kv.SetNX(ctx(t), "lock", []byte("d"), 0); err != nil || !set {
		t.Errorf("SetNX after Delete = %v, %v; want set", set, err)
	}
}

func testSetNXConcurrent(t *testing.T, _ Harness, s store.Store, _ string) {
	kv := s.KV()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			set, err := kv.SetNX(ctx(t), "claim", fmt.Appendf(nil, "%d", i), 0)
			if err != nil {
				t.Errorf("SetNX: %v", err)
			}
			if set {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d concurrent SetNX won, want exactly 1", wins.Load())
	}
}

func testKVList(t *testing.T, _ Harness, s store.Store, _ string) {
	kv := s.KV()
	for _, k := range []string{"p/b", "p/a", "p/c/d", "q/a", "pz", "p"} {
		mustKV(t, kv, k, "v:"+k)
	}
	cases := []struct {
		prefix string
		limit  int
		want   string
	}{
		{"p/", 0, "[p/a p/b p/c/d]"},
		{"p/", 2, "[p/a p/b]"},
		{"p", 0, "[p p/a p/b p/c/d pz]"},
		{"", 0, "[p p/a p/b p/c/d pz q/a]"},
		{"none/", 0, "[]"},
	}
	for _, c := range cases {
		pairs, err := kv.List(ctx(t), c.prefix, c.limit)
		if err != nil {
			t.Fatalf("List(%q): %v", c.prefix, err)
		}
		var keys []string
		for _, p := range pairs {
			keys = append(keys, p.Key)
			if string(p.Value) != "v:"+p.Key {
				t.Errorf("List(%q): %s = %q", c.prefix, p.Key, p.Value)
			}
		}
		if got := fmt.Sprint(keys); got != c.want && !(c.want == "[]" && len(keys) == 0) {
			t.Errorf("List(%q, %d) = %s, want %s", c.prefix, c.limit, got, c.want)
		}
	}
}

func newRun(wf, status string) *store.Run {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &store.Run{
		ID: ulid.Make().String(), Workflow: wf, Status: status, EventID: "evt_1",
		Input: []byte(`{"x":1}`), Tasks: []store.TaskRun{{Name: "t", Uses: "noop", Status: store.StatusQueued}},
		CreatedAt: now, UpdatedAt: now,
	}
}

func testRunsCreateAtomic(t *testing.T, _ Harness, s store.Store, _ string) {
	runs, kv := s.Runs(), s.KV()
	good, bad := newRun("wf", store.StatusQueued), newRun("wf", "")
	err := runs.Create(ctx(t), []*store.Run{good, bad}, []store.KVWrite{{Key: "dispatch/cursor", Value: []byte("7")}})
	if err == nil {
		t.Fatal("Create with a run without status: want an error")
	}
	if _, err := runs.Get(ctx(t), good.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("run of a failed Create: err %v, want ErrNotFound", err)
	}
	if _, err := kv.Get(ctx(t), "dispatch/cursor"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("cursor of a failed Create: err %v, want ErrNotFound", err)
	}
	err = runs.Create(ctx(t), []*store.Run{good}, []store.KVWrite{{Key: "dispatch/cursor", Value: []byte("7")}, {Key: ""}})
	if err == nil {
		t.Fatal("Create with an empty KV key: want an error")
	}
	if _, err := runs.Get(ctx(t), good.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("run of a failed Create: err %v, want ErrNotFound", err)
	}
	if err := runs.Create(ctx(t), []*store.Run{good}, []store.KVWrite{{Key: "dispatch/cursor", Value: []byte("7")}}); err != nil {
		t.Fatal(err)
	}
	if got, err := runs.Get(ctx(t), good.ID); err != nil || got.Workflow != "wf" || string(got.Input) != `{"x":1}` || !got.CreatedAt.Equal(good.CreatedAt) {
		t.Errorf("Get = %+v, %v", got, err)
	}
	if v, err := kv.Get(ctx(t), "dispatch/cursor"); err != nil || string(v) != "7" {
		t.Errorf("cursor = %q, %v", v, err)
	}
}

func testRunsUpdate(t *testing.T, _ Harness, s store.Store, _ string) {
	runs := s.Runs()
	r := newRun("wf", store.StatusQueued)
	if err := runs.Update(ctx(t), r); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Update of an unknown run: err %v, want ErrNotFound", err)
	}
	if err := runs.Create(ctx(t), []*store.Run{r}, nil); err != nil {
		t.Fatal(err)
	}
	r.Status, r.Attempt, r.Error = store.StatusFailed, 3, "boom"
	r.DeadLetter = true
	if err := runs.Update(ctx(t), r); err != nil {
		t.Fatal(err)
	}
	got, err := runs.Get(ctx(t), r.ID)
	if err != nil || got.Status != store.StatusFailed || got.Attempt != 3 || got.Error != "boom" || !got.DeadLetter {
		t.Errorf("Get after Update = %+v, %v", got, err)
	}
	if _, err := runs.Get(ctx(t), "01NOSUCHRUN0000000000000000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of an unknown run: err %v, want ErrNotFound", err)
	}
	// Indexes follow the update: the run lists as failed, not as queued.
	if l, _, _ := runs.List(ctx(t), store.RunFilter{Status: store.StatusQueued}); len(l) != 0 {
		t.Errorf("queued runs after the update: %d", len(l))
	}
	if l, _, _ := runs.List(ctx(t), store.RunFilter{DeadLetter: true}); len(l) != 1 {
		t.Errorf("dead letters after the update: %d, want 1", len(l))
	}
}

func testRunsList(t *testing.T, _ Harness, s store.Store, _ string) {
	runs := s.Runs()
	var all []*store.Run
	for i := range 12 {
		wf := []string{"a", "b"}[i%2]
		st := []string{store.StatusCompleted, store.StatusFailed, store.StatusQueued}[i%3]
		r := newRun(wf, st)
		r.DeadLetter = st == store.StatusFailed && wf == "a"
		all = append(all, r)
	}
	if err := runs.Create(ctx(t), all, nil); err != nil {
		t.Fatal(err)
	}
	newest := func(pred func(*store.Run) bool) []string {
		var ids []string
		for i := len(all) - 1; i >= 0; i-- {
			if pred(all[i]) {
				ids = append(ids, all[i].ID)
			}
		}
		return ids
	}
	cases := []struct {
		name string
		f    store.RunFilter
		want []string
	}{
		{"all", store.RunFilter{}, newest(func(*store.Run) bool { return true })},
		{"workflow", store.RunFilter{Workflow: "a"}, newest(func(r *store.Run) bool { return r.Workflow == "a" })},
		{"status", store.RunFilter{Status: store.StatusQueued}, newest(func(r *store.Run) bool { return r.Status == store.StatusQueued })},
		{"both", store.RunFilter{Workflow: "b", Status: store.StatusCompleted}, newest(func(r *store.Run) bool { return r.Workflow == "b" && r.Status == store.StatusCompleted })},
		{"dead letters", store.RunFilter{DeadLetter: true}, newest(func(r *store.Run) bool { return r.DeadLetter })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			after := ""
			for page := 0; ; page++ {
				f := c.f
				f.Limit, f.After = 5, after
				l, next, err := runs.List(ctx(t), f)
				if err != nil {
					t.Fatal(err)
				}
				if len(l) > 5 {
					t.Fatalf("page of %d runs, limit 5", len(l))
				}
				for _, r := range l {
					got = append(got, r.ID)
				}
				if next == "" {
					break
				}
				if page > 5 {
					t.Fatal("pagination does not end")
				}
				after = next
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("List = %v\nwant %v", got, c.want)
			}
		})
	}
}

func testRunsUnfinishedCounts(t *testing.T, _ Harness, s store.Store, _ string) {
	runs := s.Runs()
	var rs []*store.Run
	for _, st := range []string{store.StatusQueued, store.StatusRunning, store.StatusRetrying, store.StatusCompleted, store.StatusFailed, store.StatusCompleted} {
		rs = append(rs, newRun("wf", st))
	}
	if err := runs.Create(ctx(t), rs, nil); err != nil {
		t.Fatal(err)
	}
	un, err := runs.Unfinished(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(un) != 3 || un[0].ID != rs[0].ID || un[1].ID != rs[1].ID || un[2].ID != rs[2].ID {
		t.Errorf("Unfinished = %d runs, want the first three oldest first", len(un))
	}
	rs[0].Status = store.StatusCompleted
	if err := runs.Update(ctx(t), rs[0]); err != nil {
		t.Fatal(err)
	}
	c, err := runs.Counts(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{store.StatusQueued: 0, store.StatusRunning: 1, store.StatusRetrying: 1,
		store.StatusCompleted: 3, store.StatusFailed: 1, store.StatusSkipped: 0}
	if fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("Counts = %v, want %v", c, want)
	}
}

func testSecrets(t *testing.T, _ Harness, s store.Store, _ string) {
	sec := s.Secrets()
	if _, err := sec.Get(ctx(t), "api"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get of an absent secret: err %v, want ErrNotFound", err)
	}
	if err := sec.Put(ctx(t), "api", []byte("s3cr3t")); err != nil {
		t.Fatal(err)
	}
	if v, err := sec.Get(ctx(t), "api"); err != nil || string(v) != "s3cr3t" {
		t.Errorf("Get = %q, %v", v, err)
	}
	if err := sec.Delete(ctx(t), "api"); err != nil {
		t.Fatal(err)
	}
	if _, err := sec.Get(ctx(t), "api"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete: err %v, want ErrNotFound", err)
	}
}

func testCrashReopen(t *testing.T, h Harness, s store.Store, dir string) {
	res := mustAppend(t, s.Log(), dedupReq("c", "k", `{"n":1}`, time.Hour), ev("c", `{"n":2}`))
	if _, err := s.Log().AppendWithKV(ctx(t), []store.AppendRequest{ev("c", `{"n":3}`)}, []store.KVWrite{{Key: "cur", Value: []byte("3")}}); err != nil {
		t.Fatal(err)
	}
	r := newRun("wf", store.StatusRunning)
	if err := s.Runs().Create(ctx(t), []*store.Run{r}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Secrets().Put(ctx(t), "tok", []byte("v")); err != nil {
		t.Fatal(err)
	}
	last := s.Log().LastSeq()
	if h.Crash != nil {
		h.Crash(t, s)
	} else if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = h.Open(t, dir)
	if got := s.Log().LastSeq(); got != last {
		t.Errorf("LastSeq after reopen = %d, want %d", got, last)
	}
	if got := readAll(t, s.Log()); fmt.Sprint(got) != `[{"n":1} {"n":2} {"n":3}]` {
		t.Errorf("log after reopen = %v", got)
	}
	if v, err := s.KV().Get(ctx(t), "cur"); err != nil || string(v) != "3" {
		t.Errorf("cursor after reopen = %q, %v", v, err)
	}
	if un, err := s.Runs().Unfinished(ctx(t)); err != nil || len(un) != 1 || un[0].ID != r.ID {
		t.Errorf("unfinished runs after reopen = %v, %v", un, err)
	}
	if v, err := s.Secrets().Get(ctx(t), "tok"); err != nil || string(v) != "v" {
		t.Errorf("secret after reopen = %q, %v", v, err)
	}
	again := mustAppend(t, s.Log(), dedupReq("c", "k", `{"n":4}`, time.Hour), ev("c", `{"n":5}`))
	if !again[0].Duplicate || again[0].Seq != res[0].Seq {
		t.Errorf("dedup after reopen: %+v, want a duplicate of %+v", again[0], res[0])
	}
	if again[1].Seq <= last {
		t.Errorf("sequence after reopen %d, want > %d", again[1].Seq, last)
	}
}
