package workflow

import (
	"context"
	"errors"
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
)

// TestStaleDispatcherIsFenced: a dispatcher whose cursor another node
// moved (it dispatched those events while this one had lost the dispatch
// lease without noticing) has its write refused whole: no run for an event
// the other node dispatched, and after reloading the cursor it goes on
// from there.
func TestStaleDispatcherIsFenced(t *testing.T) {
	f := newFixture(t)
	e, err := New(Options{Store: f.st, Workflows: f.wfs, Resolver: f.actions, Workers: 1, Retry: config.RetryPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Not started: the test drives the dispatcher by hand, and the queued
	// runs stay in the worker queue.
	e.runCtx, e.stop = context.WithCancel(ctx)
	defer e.stop()
	e.queue = make(chan *store.Run, 16)
	if err := e.reloadCursor(ctx); err != nil {
		t.Fatal(err)
	}
	f.append(t, `{"kind":"order","id":"A","total":1}`, `{"kind":"order","id":"B","total":2}`, `{"kind":"order","id":"C","total":3}`)
	// The other dispatcher took events 1 and 2.
	if err := f.st.KV().Set(ctx, cursorKey, []byte("2"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.dispatchBatch(ctx); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale dispatch: err %v, want ErrConflict", err)
	}
	if runs := f.runs(t, store.RunFilter{}); len(runs) != 0 {
		t.Fatalf("stale dispatcher created %d runs", len(runs))
	}
	if err := e.reloadCursor(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := e.dispatchBatch(ctx); err != nil || n != 1 {
		t.Fatalf("after reloading: dispatched %d events, %v; want only event 3", n, err)
	}
	runs := f.runs(t, store.RunFilter{})
	if len(runs) != 1 || runs[0].Fields["id"] != "C" {
		t.Fatalf("runs after reload: %d (%v)", len(runs), runs)
	}
	if v, _ := f.st.KV().Get(ctx, cursorKey); string(v) != "3" {
		t.Errorf("cursor = %q, want 3", v)
	}
}
