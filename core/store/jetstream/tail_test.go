package jetstream

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
)

// TestStalledTailResumes: a tail whose consumer stops delivering without
// an error (as one did when the NATS server holding it was killed) starts
// over from its last delivered sequence at its next self-check, so the
// node's run index and newest event sequence catch up with the writes of
// other nodes.
func TestStalledTailResumes(t *testing.T) {
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	open := func() *Store {
		s, err := Open(context.Background(), Options{URL: c.URL(), Replicas: 1, SecretKey: testKey, Logger: quiet, tailCheck: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := open(), open()
	for _, tl := range []*tail{b.runTail, b.logTail} {
		tl.mu.Lock()
		cc := tl.cc
		tl.mu.Unlock()
		cc.Stop() // silent: no error reaches the tail
	}
	runs := []*store.Run{queuedRun(store.StatusQueued), queuedRun(store.StatusCompleted)}
	if err := a.Runs().Create(ctxT(t), runs, nil); err != nil {
		t.Fatal(err)
	}
	res, err := a.Log().Append(ctxT(t), []store.AppendRequest{{Connection: "c", Payload: json.RawMessage(`{"n":1}`)}})
	if err != nil {
		t.Fatal(err)
	}
	seq := res[0].Seq
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, _ := b.Runs().Counts(ctxT(t))
		if n[store.StatusQueued] == 1 && n[store.StatusCompleted] == 1 && b.lastSeq.get() >= seq {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: b counts %v and newest event %d, want one queued, one completed and event %d", n, b.lastSeq.get(), seq)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
