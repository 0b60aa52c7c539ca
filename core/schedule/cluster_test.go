package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/lease"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
)

// node is one Junction node's scheduler over its own connection to the
// shared store.
type node struct {
	kv     store.KV
	leases *lease.Leaser
	s      *Scheduler
}

type fire struct {
	node int
	at   time.Time
}

// TestClusterFiresOncePerPeriod runs three schedulers, each on its own
// client of one JetStream store, with the same `every: 1m` schedule: each
// period fires on exactly one node; when the node running a slot dies (its
// lease is no longer renewed), the next period still fires exactly once,
// on a survivor.
func TestClusterFiresOncePerPeriod(t *testing.T) {
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	start := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	clk := newFakeClock(start)
	key := WorkflowKey("report")
	sched := &config.Schedule{Every: time.Minute}

	var mu sync.Mutex
	var fires []fire
	block := false // the next run blocks until its lease ends
	nodes := make([]*node, 3)
	for i := range nodes {
		st, err := jetstream.Open(context.Background(), jetstream.Options{URL: c.URL(), Replicas: 1, SecretKey: bytes.Repeat([]byte{1}, store.SecretKeySize), Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		n := &node{kv: st.KV(), leases: lease.New(lease.Options{KV: st.KV(), TTL: time.Second, Owner: fmt.Sprint("node", i), Logger: quiet})}
		n.s = New(Options{KV: n.kv, Clock: clk, Timezone: "UTC", Logger: quiet, Leases: n.leases})
		if err := n.s.Add(context.Background(), key, sched, func(ctx context.Context, at time.Time) error {
			mu.Lock()
			fires = append(fires, fire{i, at})
			b := block
			block = false
			mu.Unlock()
			if b {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := n.s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.s.Close() })
		nodes[i] = n
	}
	alive := []int{0, 1, 2}

	// firesOf returns the nodes that fired since the last call, failing if
	// any of them fired another slot than at.
	seen := 0
	firesOf := func(at time.Time) []int {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		var out []int
		for _, f := range fires[seen:] {
			if !f.at.Equal(at) {
				t.Errorf("node %d fired slot %s during the period of %s", f.node, f.at, at)
			}
			out = append(out, f.node)
		}
		seen = len(fires)
		return out
	}
	// settle moves the clock within the period until every live node has
	// moved on to the next slot (nodes that found the lease taken look
	// again claimRetry later), so no node can fire slot any more.
	settle := func(slot time.Time) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			done := true
			for _, i := range alive {
				if next, _ := nodes[i].s.Next(key); !next.After(slot) {
					done = false
				}
			}
			if done {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("slot %s: nodes did not move on within 20s", slot)
			}
			clk.Set(clk.Now().Add(2 * time.Second))
			time.Sleep(20 * time.Millisecond)
		}
	}

	for p := 1; p <= 3; p++ {
		slot := start.Add(time.Duration(p) * time.Minute)
		clk.Set(slot)
		settle(slot)
		if got := firesOf(slot); len(got) != 1 {
			t.Fatalf("period %d fired on nodes %v, want exactly one", p, got)
		}
	}

	// Period 4's run blocks; its node then dies: it stops renewing the
	// lease (and scheduling), and its run is cut off.
	slot := start.Add(4 * time.Minute)
	mu.Lock()
	block = true
	mu.Unlock()
	clk.Set(slot)
	settle(slot)
	got := firesOf(slot)
	if len(got) != 1 {
		t.Fatalf("period 4 fired on nodes %v, want exactly one", got)
	}
	dead := got[0]
	nodes[dead].leases.Abandon()
	nodes[dead].s.Close()
	alive = nil
	for i := range nodes {
		if i != dead {
			alive = append(alive, i)
		}
	}
	// The dead node's lease expires after its TTL (real time).
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := nodes[alive[0]].kv.Get(context.Background(), lease.Key(LeaseName(key)))
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dead holder's lease still there after 20s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for p := 5; p <= 6; p++ {
		slot := start.Add(time.Duration(p) * time.Minute)
		clk.Set(slot)
		settle(slot)
		got := firesOf(slot)
		if len(got) != 1 || got[0] == dead {
			t.Fatalf("period %d after the holder died fired on nodes %v, want exactly one survivor (dead: %d)", p, got, dead)
		}
	}
}
