// Package storetest is the acceptance suite of store.Store: every promise
// the interface's comments make (core/store/store.go and runs.go) is one
// test, so that any implementation, Badger or JetStream, is held to the
// same contract. An implementation's own test calls Run with a Harness.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
)

// Harness opens the store under test.
type Harness struct {
	// Open opens (creating if needed) the store kept in dir. Each test
	// gets a fresh dir; the reopen test calls Open again on the same dir
	// after Crash. Open registers its own cleanup.
	Open func(t *testing.T, dir string) store.Store
	// Crash stops s as abruptly as the implementation allows in process
	// (for JetStream: the servers are shut down under the open client).
	// Nil: s.Close().
	Crash func(t *testing.T, s store.Store)
	// Only, when set, runs only the named tests (for a slower setup that
	// repeats a subset).
	Only []string
}

type test struct {
	name string
	fn   func(t *testing.T, h Harness, s store.Store, dir string)
}

var tests = []test{
	{"AppendOrder", testAppendOrder},
	{"AppendAtomic", testAppendAtomic},
	{"AppendWithKVAtomic", testAppendWithKVAtomic},
	{"ReadPagination", testReadPagination},
	{"GetEvent", testGetEvent},
	{"Dedup", testDedup},
	{"DedupWindowExpires", testDedupWindowExpires},
	{"Notify", testNotify},
	{"KV", testKV},
	{"KVTTL", testKVTTL},
	{"SetNX", testSetNX},
	{"SetNXConcurrent", testSetNXConcurrent},
	{"KVList", testKVList},
	{"RunsCreateAtomic", testRunsCreateAtomic},
	{"RunsUpdate", testRunsUpdate},
	{"RunsList", testRunsList},
	{"RunsUnfinishedCounts", testRunsUnfinishedCounts},
	{"Secrets", testSecrets},
	{"CrashReopen", testCrashReopen},
	{"Closed", testClosed},
}

// Run runs the suite, each test on a store of its own.
func Run(t *testing.T, h Harness) {
	only := map[string]bool{}
	for _, n := range h.Only {
		only[n] = true
	}
	for _, tc := range tests {
		if len(only) > 0 && !only[tc.name] {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := h.Open(t, dir)
			tc.fn(t, h, s, dir)
		})
	}
}

// Names lists the suite's tests (for Harness.Only).
func Names() []string {
	out := make([]string, len(tests))
	for i, tc := range tests {
		out[i] = tc.name
	}
	return out
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func ev(conn, payload string) store.AppendRequest {
	return store.AppendRequest{Connection: conn, Type: "track", Payload: json.RawMessage(payload)}
}

func mustAppend(t *testing.T, l store.Log, reqs ...store.AppendRequest) []store.AppendResult {
	t.Helper()
	res, err := l.Append(ctx(t), reqs)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if len(res) != len(reqs) {
		t.Fatalf("Append: %d results for %d requests", len(res), len(reqs))
	}
	return res
}

func readAll(t *testing.T, l store.Log) []string {
	t.Helper()
	var out []string
	var after uint64
	for {
		evs, err := l.Read(ctx(t), after, 1000)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(evs) == 0 {
			return out
		}
		for _, e := range evs {
			out = append(out, string(e.Payload))
			after = e.Seq
		}
	}
}

func testAppendOrder(t *testing.T, _ Harness, s store.Store, _ string) {
	l := s.Log()
	if got := l.LastSeq(); got != 0 {
		t.Fatalf("LastSeq of an empty log = %d", got)
	}
	var want []string
	var last uint64
	var seqs []uint64
	for call := range 5 {
		var reqs []store.AppendRequest
		for i := range call + 1 {
			p := fmt.Sprintf(`{"call":%d,"i":%d}`, call, i)
			want = append(want, p)
			reqs = append(reqs, ev("c", p))
		}
		for _, r := range mustAppend(t, l, reqs...) {
			if r.Duplicate || r.Seq <= last || r.ID == "" {
				t.Fatalf("result %+v after seq %d: want a new, increasing sequence", r, last)
			}
			last = r.Seq
			seqs = append(seqs, r.Seq)
		}
	}
	evs, err := l.Read(ctx(t), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range evs {
		if i >= len(seqs) || e.Seq != seqs[i] || e.ID != res2id(t, l, e.Seq) {
			t.Fatalf("event %d read with seq %d, appended as %v", i, e.Seq, seqs)
		}
	}
	if got := l.LastSeq(); got != last {
		t.Errorf("LastSeq = %d, want %d", got, last)
	}
	got := readAll(t, l)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Read order:\n got %v\nwant %v", got, want)
	}
}

// res2id checks that Get finds the event by the ID Read gave it.
func res2id(t *testing.T, l store.Log, seq uint64) string {
	t.Helper()
	evs, err := l.Read(ctx(t), seq-1, 1)
	if err != nil || len(evs) != 1 {
		t.Fatalf("Read(%d, 1) = %v, %v", seq-1, evs, err)
	}
	e, err := l.Get(ctx(t), evs[0].ID)
	if err != nil || e.Seq != seq {
		t.Fatalf("Get(%s) = %+v, %v", evs[0].ID, e, err)
	}
	return e.ID
}

func testAppendAtomic(t *testing.T, _ Harness, s store.Store, _ string) {
	l := s.Log()
	mustAppend(t, l, ev("c", `{"n":1}`))
	before := l.LastSeq()
	for _, bad := range []store.AppendRequest{
		{Connection: "", Payload: json.RawMessage(`{}`)},
		{Connection: "c", Payload: json.RawMessage(`{not json`)},
	} {
		_, err := l.Append(ctx(t), []store.AppendRequest{ev("c", `{"n":2}`), bad, ev("c", `{"n":3}`)})
		if err == nil {
			t.Fatalf("Append with %+v: want an error", bad)
		}
	}
	if l.LastSeq() != before {
		t.Errorf("LastSeq moved from %d to %d after failed appends", before, l.LastSeq())
	}
	if got := readAll(t, l); len(got) != 1 {
		t.Errorf("log after failed appends = %v, want only the first event", got)
	}
}

func testAppendWithKVAtomic(t *testing.T, _ Harness, s store.Store, _ string) {
	l, kv := s.Log(), s.KV()
	_, err := l.AppendWithKV(ctx(t), []store.AppendRequest{ev("c", `{"n":1}`)},
		[]store.KVWrite{{Key: "cursor/a", Value: []byte("1")}, {Key: "", Value: []byte("x")}})
	if err == nil {
		t.Fatal("AppendWithKV with an empty key: want an error")
	}
	if got := readAll(t, l); len(got) != 0 {
		t.Errorf("events after a failed AppendWithKV: %v", got)
	}
	if _, err := kv.Get(ctx(t), "cursor/a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("cursor after a failed AppendWithKV: err %v, want ErrNotFound", err)
	}
	mustKV(t, kv, "cursor/gone", "old")
	res, err := l.AppendWithKV(ctx(t), []store.AppendRequest{ev("c", `{"n":1}`), ev("c", `{"n":2}`)},
		[]store.KVWrite{{Key: "cursor/a", Value: []byte("2")}, {Key: "cursor/gone"}})
	if err != nil || len(res) != 2 {
		t.Fatalf("AppendWithKV: %v, %v", res, err)
	}
	if v, err := kv.Get(ctx(t), "cursor/a"); err != nil || string(v) != "2" {
		t.Errorf("cursor = %q, %v; want 2", v, err)
	}
	if _, err := kv.Get(ctx(t), "cursor/gone"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted key: err %v, want ErrNotFound", err)
	}
	if got := readAll(t, l); len(got) != 2 {
		t.Errorf("events = %v, want 2", got)
	}
	// KV writes alone are a valid call too.
	if _, err := l.AppendWithKV(ctx(t), nil, []store.KVWrite{{Key: "cursor/a", Value: []byte("3")}}); err != nil {
		t.Fatalf("AppendWithKV without events: %v", err)
	}
	if v, _ := kv.Get(ctx(t), "cursor/a"); string(v) != "3" {
		t.Errorf("cursor = %q, want 3", v)
	}
}

func testReadPagination(t *testing.T, _ Harness, s store.Store, _ string) {
	l := s.Log()
	var reqs []store.AppendRequest
	for i := range 250 {
		reqs = append(reqs, ev("c", fmt.Sprintf(`{"i":%d}`, i)))
	}
	res := mustAppend(t, l, reqs...)
	cases := []struct {
		name  string
		after uint64
		limit int
		want  int
		first int // index into res of the first event, -1: none
	}{
		{"default limit", 0, 0, 100, 0},
		{"negative limit", 0, -5, 100, 0},
		{"small page", res[9].Seq, 7, 7, 10},
		{"tail", res[240].Seq, 100, 9, 241},
		{"after the end", res[249].Seq, 10, 0, -1},
		{"max uint", ^uint64(0), 10, 0, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, err := l.Read(ctx(t), c.after, c.limit)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(evs) != c.want {
				t.Fatalf("Read(%d, %d) = %d events, want %d", c.after, c.limit, len(evs), c.want)
			}
			for i, e := range evs {
				if e.Seq != res[c.first+i].Seq {
					t.Fatalf("event %d: seq %d, want %d", i, e.Seq, res[c.first+i].Seq)
				}
			}
		})
	}
}

func testGetEvent(t *testing.T, _ Harness, s store.Store, _ string) {
	l := s.Log()
	occurred := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	res, err := l.Append(ctx(t), []store.AppendRequest{{
		Connection: "seg", Type: "identify", DedupKey: "m1", OccurredAt: occurred, Payload: json.RawMessage(`{"a":1}`),
	}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := l.Get(ctx(t), res[0].ID)
	if err != nil {
		t.Fatalf("Get(%s): %v", res[0].ID, err)
	}
	if e.ID != res[0].ID || e.Seq != res[0].Seq || e.Connection != "seg" || e.Type != "identify" ||
		e.DedupKey != "m1" || !e.OccurredAt.Equal(occurred) || string(e.Payload) != `{"a":1}` || e.ReceivedAt.IsZero() {
		t.Errorf("Get = %+v", e)
	}
	for _, id := range []string{"evt_00000000000fffff", "nonsense"} {
		if _, err := l.Get(ctx(t), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%s): err %v, want ErrNotFound", id, err)
		}
	}
}

func dedupReq(conn, key, payload string, window time.Duration) store.AppendRequest {
	r := ev(conn, payload)
	r.DedupKey, r.DedupWindow = key, window
	return r
}

func testDedup(t *testing.T, _ Harness, s store.Store, _ string) {
	l := s.Log()
	first := mustAppend(t, l, dedupReq("a", "k1", `{"n":1}`, 0))[0]
	cases := []struct {
		name string
		reqs []store.AppendRequest
		dup  []bool
	}{
		{"same key, same connection", []store.AppendRequest{dedupReq("a", "k1", `{"n":2}`, 0)}, []bool{true}},
		{"same key, other connection", []store.AppendRequest{dedupReq("b", "k1", `{"n":3}`, 0)}, []bool{false}},
		{"twice in one call", []store.AppendRequest{dedupReq("a", "k2", `{"n":4}`, 0), dedupReq("a", "k2", `{"n":5}`, 0)}, []bool{false, true}},
		{"no key never dedups", []store.AppendRequest{ev("a", `{"n":6}`), ev("a", `{"n":6}`)}, []bool{false, false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := mustAppend(t, l, c.reqs...)
			for i, r := range res {
				if r.Duplicate != c.dup[i] {
					t.Errorf("result %d: %+v, want duplicate=%v", i, r, c.dup[i])
				}
			}
		})
	}
	again := mustAppend(t, l, dedupReq("a", "k1", `{"n":7}`, time.Hour))[0]
	if !again.Duplicate || again.Seq != first.Seq || again.ID != first.ID {
		t.Errorf("duplicate result %+v, want the original %+v", again, first)
	}
	got := readAll(t, l)
	want := []string{`{"n":1}`, `{"n":3}`, `{"n":4}`, `{"n":6}`, `{"n":6}`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("log = %v, want %v", got, want)
	}
}

func testDedupWindowExpires(t *testing.T, _ Harness, s store.Store, _ string) {
	l := s.Log()
	mustAppend(t, l, dedupReq("a", "k", `{"n":1}`, time.Second))
	if r := mustAppend(t, l, dedupReq("a", "k", `{"n":2}`, time.Second))[0]; !r.Duplicate {
		t.Fatalf("inside the window: %+v, want a duplicate", r)
	}
	// Stores may expire at whole seconds: poll with a generous deadline.
	deadline := time.Now().Add(10 * time.Second)
	for {
		time.Sleep(250 * time.Millisecond)
		r := mustAppend(t, l, dedupReq("a", "k", `{"n":3}`, time.Second))[0]
		if !r.Duplicate {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dedup window never closed")
		}
	}
	if got := readAll(t, l); len(got) != 2 || got[1] != `{"n":3}` {
		t.Errorf("log = %v, want the first event and the one after the window", got)
	}
}

func testNotify(t *testing.T, _ Harness, s store.Store, _ string) {
	l := s.Log()
	ch := l.Notify()
	// Drain a signal left from setup, then expect one for this append.
	select {
	case <-ch:
	default:
	}
	mustAppend(t, l, ev("c", `{}`))
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no signal on Notify after a commit")
	}
}

func testClosed(t *testing.T, _ Harness, s store.Store, _ string) {
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Log().Append(ctx(t), []store.AppendRequest{ev("c", `{}`)}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Append after Close: err %v, want ErrClosed", err)
	}
	if _, err := s.KV().Get(ctx(t), "k"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("KV.Get after Close: err %v, want ErrClosed", err)
	}
}
