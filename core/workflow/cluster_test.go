package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/lease"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
	"github.com/junctionhub/junction/core/task"
)

// sink is the idempotent target every node's tasks call: it records each
// call by idempotency key and node, and catches two nodes executing one
// task at the same time. Calls of a node after it was killed are not
// counted (a killed process calls nothing); its calls in flight at the
// kill count as delivered, so the survivors' call of the same key is a
// repeat, allowed only because of the death.
type sink struct {
	mu         sync.Mutex
	calls      map[string][]string // idempotency key -> nodes, in order
	running    map[string]string   // idempotency key -> node executing it now
	overlaps   []string
	dead       map[string]bool
	hang       map[string]chan struct{} // node -> "second" waits on it while set
	hung       map[string]int           // node -> calls waiting on hang
	hungKeys   map[string]bool
	finishedAt map[string]time.Time // idempotency key -> last completion
}

func newSink() *sink {
	return &sink{calls: map[string][]string{}, running: map[string]string{}, dead: map[string]bool{},
		hang: map[string]chan struct{}{}, hung: map[string]int{}, hungKeys: map[string]bool{}, finishedAt: map[string]time.Time{}}
}

func (s *sink) resolver(node string) Resolver {
	return resolverFunc(func(uses string) (task.Executor, error) {
		return task.ExecutorFunc(func(ctx context.Context, c *task.Call) (json.RawMessage, error) {
			key := c.IdempotencyKey
			s.mu.Lock()
			if s.dead[node] {
				s.mu.Unlock()
				<-ctx.Done()
				return nil, ctx.Err()
			}
			if other, ok := s.running[key]; ok {
				s.overlaps = append(s.overlaps, fmt.Sprintf("%s on %s and %s", key, other, node))
			}
			s.running[key] = node
			s.calls[key] = append(s.calls[key], node)
			hang := s.hang[node]
			if hang != nil && c.Task == "second" {
				s.hung[node]++
				s.hungKeys[key] = true
			}
			s.mu.Unlock()
			if hang != nil && c.Task == "second" {
				select { // a dead node's task never returns
				case <-hang:
				case <-ctx.Done():
				}
				return nil, fmt.Errorf("node %s is dead", node)
			}
			s.mu.Lock()
			delete(s.running, key)
			s.finishedAt[key] = time.Now()
			s.mu.Unlock()
			return json.RawMessage(`{"echo":"ok"}`), nil
		}), nil
	})
}

// kill marks node dead: its calls in flight end with it.
func (s *sink) kill(node string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dead[node] = true
	for k, n := range s.running {
		if n == node {
			delete(s.running, k)
		}
	}
}

type resolverFunc func(string) (task.Executor, error)

func (f resolverFunc) Resolve(uses string) (task.Executor, error) { return f(uses) }

type clusterNode struct {
	name   string
	st     *jetstream.Store
	engine *Engine
}

func startCluster(t *testing.T, sk *sink) (*natstest.Cluster, []*clusterNode) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "wf.yaml")
	if err := os.WriteFile(path, []byte(testWorkflows), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := config.Load([]string{path}, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := natstest.Start(t, filepath.Join(dir, "nats"), 3, natstest.Options{})
	t.Cleanup(c.Shutdown)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var nodes []*clusterNode
	for i := range 3 {
		name := fmt.Sprintf("node%d", i)
		st, err := jetstream.Open(context.Background(), jetstream.Options{
			URL: c.URL(), Replicas: 3, SecretKey: make([]byte, store.SecretKeySize), Logger: quiet,
			ClaimTimeout: 4 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		e, err := New(Options{
			Store: st, Workflows: b.Workflows, Resolver: sk.resolver(name), Logger: quiet, Workers: 4, Node: name,
			Leases: lease.New(lease.Options{KV: st.KV(), TTL: 3 * time.Second, Owner: name, Logger: quiet}),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		nodes = append(nodes, &clusterNode{name: name, st: st, engine: e})
	}
	return c, nodes
}

func appendOrders(t *testing.T, nodes []*clusterNode, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		nd := nodes[i%len(nodes)]
		p := fmt.Sprintf(`{"kind":"order","id":"o%d","total":%d}`, i, i)
		if _, err := nd.st.Log().Append(context.Background(), []store.AppendRequest{{Connection: "in", Payload: json.RawMessage(p)}}); err != nil {
			t.Fatalf("append on %s: %v", nd.name, err)
		}
	}
}

func allRuns(t *testing.T, st store.Store) []*store.Run {
	t.Helper()
	var out []*store.Run
	after := ""
	for {
		page, next, err := st.Runs().List(context.Background(), store.RunFilter{After: after, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		after = next
	}
}

// waitCompleted waits until every event has a completed run.
func waitCompleted(t *testing.T, st store.Store, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		counts, err := st.Runs().Counts(context.Background())
		if err == nil && counts[store.StatusCompleted] >= want {
			return
		}
		if time.Now().After(deadline) {
			for _, r := range allRuns(t, st) {
				if r.Status != store.StatusCompleted {
					t.Logf("run %s %s tasks %+v", r.ID, r.Status, r.Tasks)
				}
			}
			t.Fatalf("after %s: run counts %v, want %d completed", within, counts, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestThreeNodesShareRuns: three engines over one R3 stream. 300 events
// appended across them become exactly one completed run each, no task runs
// on two nodes at once and each idempotency key reaches the sink once.
// Then the node holding the dispatch lease dies with runs in flight: the
// survivors take over dispatching (events appended after the death become
// runs once) and finish the dead node's runs at their first unfinished
// task, with the same idempotency keys, within 30 s.
func TestThreeNodesShareRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("3-node NATS cluster")
	}
	sk := newSink()
	_, nodes := startCluster(t, sk)
	appendOrders(t, nodes, 0, 300)
	waitCompleted(t, nodes[0].st, 300, 2*time.Minute)
	checkRuns(t, nodes[1].st, 300)
	sk.mu.Lock()
	perNode := map[string]int{}
	for key, ns := range sk.calls {
		if len(ns) != 1 {
			t.Errorf("idempotency key %s delivered %d times (%v) with no node dead", key, len(ns), ns)
		}
		perNode[ns[0]]++
	}
	if len(sk.calls) != 600 || len(sk.overlaps) > 0 {
		t.Errorf("%d keys delivered, want 600; overlapping executions: %v", len(sk.calls), sk.overlaps)
	}
	sk.mu.Unlock()
	t.Logf("tasks per node: %v", perNode)

	// Kill the dispatch lease holder while its "second" tasks hang.
	holder := leaseHolder(t, nodes[0].st)
	var dead *clusterNode
	var alive []*clusterNode
	for _, nd := range nodes {
		if nd.name == holder {
			dead = nd
		} else {
			alive = append(alive, nd)
		}
	}
	if dead == nil {
		t.Fatalf("dispatch lease held by %q, not a node", holder)
	}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // before the engines close (cleanups run last first)
	sk.mu.Lock()
	sk.hang[dead.name] = release
	sk.mu.Unlock()
	appendOrders(t, nodes, 300, 30)
	deadline := time.Now().Add(time.Minute)
	for {
		sk.mu.Lock()
		n := sk.hung[dead.name]
		sk.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never held a run (counts %v)", dead.name, mustCounts(t, nodes[0].st))
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // let it claim what it will
	sk.kill(dead.name)
	_ = dead.st.Close() // its connection drops; the engine gets no graceful path
	killedAt := time.Now()
	appendOrders(t, alive, 330, 30)
	waitCompleted(t, alive[0].st, 360, 30*time.Second)
	t.Logf("all runs completed %s after the kill", time.Since(killedAt).Round(time.Millisecond))
	runs := checkRuns(t, alive[0].st, 360)

	sk.mu.Lock()
	defer sk.mu.Unlock()
	if len(sk.overlaps) > 0 {
		t.Errorf("overlapping executions: %v", sk.overlaps)
	}
	resumed, repeats := 0, 0
	for _, r := range runs {
		first, second := sk.calls[r.ID+"/first"], sk.calls[r.ID+"/second"]
		if len(first) != 1 {
			t.Errorf("run %s: first task executed %v: a completed task ran again", r.ID, first)
		}
		if !sk.hungKeys[r.ID+"/second"] {
			if len(second) != 1 {
				t.Errorf("run %s: second task delivered %v though no node died holding it", r.ID, second)
			}
			continue
		}
		// Held by the dead node at its death: resumed on a live node at
		// the second task, with the same key, once more.
		if len(second) != 2 || second[0] != dead.name || second[1] == dead.name {
			t.Errorf("run %s: second task calls %v, want the dead node's then one live node's", r.ID, second)
		}
		if r.Tasks[1].Node == dead.name || r.Tasks[0].Attempts != 1 {
			t.Errorf("run %s: second task recorded on %s, first task attempts %d", r.ID, r.Tasks[1].Node, r.Tasks[0].Attempts)
		}
		repeats += len(second) - 1
		resumed++
	}
	if resumed == 0 || resumed != sk.hung[dead.name] {
		t.Errorf("%d runs resumed on a live node, want the %d the dead node held", resumed, sk.hung[dead.name])
	}
	t.Logf("%d runs resumed after the death of %s; %d repeated deliveries, all of tasks in flight at the death", resumed, dead.name, repeats)
}

// checkRuns: every event has exactly one run, completed.
func checkRuns(t *testing.T, st store.Store, events int) []*store.Run {
	t.Helper()
	runs := allRuns(t, st)
	byEvent := map[string]int{}
	for _, r := range runs {
		byEvent[r.EventID]++
		if r.Status != store.StatusCompleted {
			t.Errorf("run %s: %s (%s)", r.ID, r.Status, r.Error)
		}
	}
	if len(byEvent) != events || len(runs) != events {
		t.Errorf("%d runs for %d events, want %d of each", len(runs), len(byEvent), events)
	}
	for ev, n := range byEvent {
		if n != 1 {
			t.Errorf("event %s has %d runs", ev, n)
		}
	}
	return runs
}

func leaseHolder(t *testing.T, st store.Store) string {
	t.Helper()
	raw, err := st.KV().Get(context.Background(), lease.Key(dispatchLease))
	if err != nil {
		t.Fatalf("dispatch lease: %v", err)
	}
	var v struct{ Owner string }
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v.Owner
}

func mustCounts(t *testing.T, st store.Store) map[string]int {
	c, _ := st.Runs().Counts(context.Background())
	return c
}
