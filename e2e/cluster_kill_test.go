package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The kill test's phases: acknowledgements before each kill and after the
// last one, and how long the sink holds each delivery while the test waits
// for the victim to be in the middle of one.
const (
	clusterAcksBeforeHubKill = 2000
	clusterAcksAfterEachKill = 1000
	clusterSettleDeadline    = 120 * time.Second
	clusterPhaseAckDeadline  = 180 * time.Second
	clusterSenders           = 8
	clusterSinkDelay         = 20 * time.Millisecond
	clusterSinkHold          = 3 * time.Second
)

// nodeSink is the idempotent sink behind a front that learns which node
// made each call (each node's SINK_URL carries ?node=<name>), so the test
// can kill a node in the middle of its deliveries and follow those.
type nodeSink struct {
	*sink
	URL string

	mu       sync.Mutex
	inflight map[string]map[string]bool // node -> idempotency keys being answered
	callers  map[string][]string        // idempotency key -> calling nodes, in order
}

func newNodeSink(t *testing.T) *nodeSink {
	t.Helper()
	ns := &nodeSink{sink: newSink(t), inflight: map[string]map[string]bool{}, callers: map[string][]string{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ns.URL = "http://" + ln.Addr().String() + "/deliver"
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		node, key := r.URL.Query().Get("node"), r.Header.Get("Idempotency-Key")
		ns.mu.Lock()
		if ns.inflight[node] == nil {
			ns.inflight[node] = map[string]bool{}
		}
		ns.inflight[node][key] = true
		ns.callers[key] = append(ns.callers[key], node)
		ns.mu.Unlock()
		defer func() {
			ns.mu.Lock()
			delete(ns.inflight[node], key)
			ns.mu.Unlock()
		}()
		ns.serve(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ns
}

// setDelay sets how long the sink holds each answer after recording it.
func (ns *nodeSink) setDelay(d time.Duration) {
	ns.sink.mu.Lock()
	ns.sink.delay = d
	ns.sink.mu.Unlock()
}

// inflightOf lists the keys node is being answered for.
func (ns *nodeSink) inflightOf(node string) []string {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var out []string
	for k := range ns.inflight[node] {
		out = append(out, k)
	}
	return out
}

func (ns *nodeSink) callersOf(key string) []string {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return append([]string(nil), ns.callers[key]...)
}

// TestClusterKill is issue 11's kill test: 8 senders post orders spread over
// three junction nodes sharing an R3 stream on three NATS processes, each
// order's run delivers it to an idempotent sink. After 2,000 acks one
// junction node is killed with -9 and the senders move to the other two;
// after 1,000 more the NATS server leading the stream is killed with -9;
// after 1,000 more the senders stop. Then every acknowledged event has
// exactly one run, completed; each order reached the sink under exactly one
// idempotency key (repeated calls with that key are allowed and logged);
// and the runs left unfinished by the dead node were finished by the
// others.
func TestClusterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test skipped in -short mode")
	}
	s := newNodeSink(t)
	s.setDelay(clusterSinkDelay)
	configs := copyConfigs(t, "testdata/spine")
	c := startCluster(t, configs, spineEnv(s.sink), func(node string) map[string]string {
		return map[string]string{"SINK_URL": s.URL + "?node=" + node}
	})
	defer c.logs()

	var (
		live      atomic.Pointer[[]int] // indexes of the hubs senders may use
		acked     sync.Map              // order id -> node it was acknowledged by
		nAcked    atomic.Int64
		sent      atomic.Int64
		refused   atomic.Int64 // answered, not 2xx
		failed    atomic.Int64 // no answer (a node killed mid-request)
		stop      = make(chan struct{})
		wg        sync.WaitGroup
		client    = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clusterSenders}, Timeout: 30 * time.Second}
		allHubs   = []int{0, 1, 2}
		firstFail sync.Once
	)
	t.Cleanup(client.CloseIdleConnections)
	live.Store(&allHubs)
	for w := range clusterSenders {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				hubs := *live.Load()
				hi := hubs[(w+i)%len(hubs)]
				id := fmt.Sprintf("o-%d-%d", w, i)
				sent.Add(1)
				req, _ := http.NewRequest("POST", c.Hubs[hi].URL+"/hooks/orders-in", strings.NewReader(`{"kind":"order","id":"`+id+`","total":1}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-API-Key", "k-orders")
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue // the event may or may not be stored: not acknowledged
				}
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					acked.Store(id, c.Nodes[hi])
					nAcked.Add(1)
				} else {
					refused.Add(1)
					firstFail.Do(func() { t.Logf("first refusal: %s answered HTTP %d", c.Nodes[hi], resp.StatusCode) })
				}
			}
		})
	}
	stopSenders := func() {
		select {
		case <-stop:
		default:
			close(stop)
			wg.Wait()
		}
	}
	t.Cleanup(stopSenders)
	waitAcks := func(n int64, what string) {
		t.Helper()
		waitFor(t, clusterPhaseAckDeadline, fmt.Sprintf("%d acknowledged events %s", n, what), func() bool { return nAcked.Load() >= n })
	}

	waitAcks(clusterAcksBeforeHubKill, "before the junction kill")
	// The sink holds its answers for a while, so that the victim dies with
	// deliveries made but not yet answered: runs it must not finish itself.
	const victim = 1
	dead := c.Nodes[victim]
	s.setDelay(clusterSinkHold)
	waitFor(t, clusterPhaseAckDeadline, "a delivery by "+dead+" held at the sink", func() bool { return len(s.inflightOf(dead)) > 0 })
	survivors := []int{0, 2}
	live.Store(&survivors)
	// Taken before the kill: the dead node's connections close with it,
	// and the sink forgets their deliveries. The sink holds each answer
	// for clusterSinkHold, far longer than the kill takes.
	held := s.inflightOf(dead)
	c.killHub(victim)
	s.setDelay(clusterSinkDelay)
	atHubKill := nAcked.Load()
	// What was unfinished the moment the node died: the dead node's share
	// of it must be finished by the others.
	unfinished := map[string]bool{}
	for _, st := range []string{"queued", "running", "retrying"} {
		rs, err := listRuns(c.Hubs[0], url.Values{"status": {st}})
		if err != nil {
			t.Fatalf("%s runs after the kill: %v", st, err)
		}
		for _, r := range rs {
			unfinished[r.ID] = true
		}
	}
	t.Logf("kill -9 %s after %d acks (%d sent), in the middle of %d deliveries; %d runs unfinished", dead, atHubKill, sent.Load(), len(held), len(unfinished))

	waitAcks(atHubKill+clusterAcksAfterEachKill, "after the junction kill")
	leader, err := c.streamLeader()
	if err != nil {
		t.Fatalf("the stream's leader: %v", err)
	}
	c.killNATS(leader)
	atNATSKill := nAcked.Load()
	t.Logf("kill -9 NATS %s (the stream's leader) after %d acks", leader, atNATSKill)
	waitAcks(atNATSKill+clusterAcksAfterEachKill, "after the NATS kill")
	stopSenders()
	t.Logf("sent %d, acknowledged %d, refused %d, unanswered %d", sent.Load(), nAcked.Load(), refused.Load(), failed.Load())

	ackedIDs := map[string]string{}
	acked.Range(func(k, v any) bool {
		ackedIDs[k.(string)] = v.(string)
		return true
	})
	var (
		runs    []runView
		listErr error
	)
	settled := waitUntil(clusterSettleDeadline, 2*time.Second, func() bool {
		var rs []runView
		if rs, listErr = listRuns(c.Hubs[0], url.Values{}); listErr != nil {
			return false
		}
		runs = rs
		done := map[string]bool{}
		for _, r := range runs {
			switch r.Status {
			case "queued", "running", "retrying":
				return false
			case "completed":
				done[idOf(r.Input)] = true
			}
		}
		for id := range ackedIDs {
			if !done[id] {
				return false
			}
		}
		return true
	})
	if !settled {
		t.Errorf("after %s the runs had not settled: every acknowledged event completed and no run left to finish (last list error: %v)", clusterSettleDeadline, listErr)
	}
	if runs == nil {
		t.Fatalf("no list of runs from %s", c.Nodes[0])
	}
	listed := map[string]bool{}
	for _, r := range runs {
		listed[r.ID] = true
	}
	for _, i := range survivors {
		rs, err := listRuns(c.Hubs[i], url.Values{})
		if err != nil {
			continue
		}
		var missing []string
		seen := map[string]bool{}
		for _, r := range rs {
			seen[r.ID] = true
		}
		for id := range listed {
			if !seen[id] {
				missing = append(missing, id)
			}
		}
		sort.Strings(missing)
		t.Logf("%s lists %d runs; of %s's, it misses %d, e.g. %v", c.Nodes[i], len(rs), c.Nodes[0], len(missing), missing[:min(3, len(missing))])
	}
	bad := c.checkKillOutcome(t, s.sink, runs, ackedIDs, unfinished, dead)
	checkHeld(t, s, runs, held, dead)
	c.explainUnsettled(t, bad, survivors)
}

// checkKillOutcome holds the runs and the sink's deliveries to the kill
// test's promises, reporting each broken promise once with a count and a
// few examples.
// It returns the acknowledged events without exactly one completed run.
func (c *cluster) checkKillOutcome(t *testing.T, s *sink, runs []runView, acked map[string]string, unfinished map[string]bool, dead string) []string {
	t.Helper()
	perID := map[string][]runView{}
	byStatus := map[string]int{}
	byNode := map[string]int{}
	for _, r := range runs {
		id := idOf(r.Input)
		perID[id] = append(perID[id], r)
		byStatus[r.Status]++
		byNode[lastNode(r)]++
	}
	t.Logf("%d runs for %d acknowledged events; by status %v; by node of the last attempt %v", len(runs), len(acked), byStatus, byNode)

	delivered := map[string]int{}
	for _, body := range s.delivered() {
		var b struct{ Order string }
		json.Unmarshal(body, &b)
		delivered[b.Order]++
	}
	s.mu.Lock()
	t.Logf("sink: %d calls, %d idempotency keys, %d repeated calls absorbed by their key", s.calls, len(s.byKey), s.duplicates)
	s.mu.Unlock()

	report := func(what string, bad []string) {
		t.Helper()
		if len(bad) == 0 {
			return
		}
		sort.Strings(bad)
		t.Errorf("%d %s, e.g. %s", len(bad), what, strings.Join(bad[:min(5, len(bad))], "; "))
	}
	var lost, notOne, notCompleted, notOnce, twice, unsettled []string
	for id := range acked {
		rs := perID[id]
		switch {
		case len(rs) == 0:
			lost = append(lost, id)
		case len(rs) > 1:
			notOne = append(notOne, fmt.Sprintf("%s: %d runs", id, len(rs)))
		case rs[0].Status != "completed":
			notCompleted = append(notCompleted, fmt.Sprintf("%s: %s %s", id, rs[0].Status, rs[0].Error))
		}
		if len(rs) != 1 || rs[0].Status != "completed" {
			unsettled = append(unsettled, id)
		}
		if delivered[id] != 1 {
			notOnce = append(notOnce, fmt.Sprintf("%s: %d keys", id, delivered[id]))
		}
	}
	for id, rs := range perID {
		if _, ok := acked[id]; !ok && len(rs) > 1 {
			twice = append(twice, fmt.Sprintf("%s: %d runs", id, len(rs)))
		}
	}
	report("acknowledged events lost (no run)", lost)
	report("acknowledged events with more than one run", notOne)
	report("acknowledged events whose run did not complete", notCompleted)
	report("acknowledged events not at the sink under exactly one idempotency key", notOnce)
	report("unacknowledged events with more than one run", twice)

	var stuck, byDead []string
	finishedElsewhere := 0
	for _, r := range runs {
		if !unfinished[r.ID] {
			continue
		}
		switch {
		case r.Status != "completed":
			stuck = append(stuck, fmt.Sprintf("%s (%s, last attempt on %s)", r.ID, r.Status, lastNode(r)))
		case lastNode(r) == dead:
			byDead = append(byDead, r.ID)
		default:
			finishedElsewhere++
		}
	}
	t.Logf("%d runs unfinished when %s died; %d of them finished on the other nodes", len(unfinished), dead, finishedElsewhere)
	report("runs unfinished when "+dead+" died that did not complete", stuck)
	if len(byDead) > 0 {
		// Only a write the dead node sent just before the kill, stored
		// after the snapshot, can do this.
		t.Logf("%d runs unfinished at the snapshot were completed by %s itself, e.g. %s", len(byDead), dead, byDead[0])
	}
	return unsettled
}

// waitUntil polls cond every interval until it holds (true) or the timeout
// passes (false), for a wait whose failure the caller explains itself.
func waitUntil(timeout, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}

// lastNode names the node that ran the last attempt of r's last task that
// ran ("" when none did).
func lastNode(r runView) string {
	for i := len(r.Tasks) - 1; i >= 0; i-- {
		if r.Tasks[i].Node != "" {
			return r.Tasks[i].Node
		}
	}
	return ""
}

// checkHeld follows the deliveries the dead node was making when it died:
// each run must have completed on another node, whose call with the same
// idempotency key the sink absorbed as a repeat.
func checkHeld(t *testing.T, s *nodeSink, runs []runView, held []string, dead string) {
	t.Helper()
	byID := map[string]runView{}
	for _, r := range runs {
		byID[r.ID] = r
	}
	var bad []string
	for _, key := range held {
		id, _, _ := strings.Cut(key, "/")
		r, ok := byID[id]
		callers := s.callersOf(key)
		switch {
		case !ok:
			bad = append(bad, key+": run not listed")
		case r.Status != "completed" || lastNode(r) == dead:
			bad = append(bad, fmt.Sprintf("%s: %s, last attempt on %q", key, r.Status, lastNode(r)))
		case len(callers) < 2:
			bad = append(bad, fmt.Sprintf("%s: called only by %v", key, callers))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("%d of the %d deliveries %s was making when it died were not finished by another node, e.g. %s",
			len(bad), len(held), dead, strings.Join(bad[:min(5, len(bad))], "; "))
	} else {
		t.Logf("the %d deliveries %s was making when it died were finished by the other nodes", len(held), dead)
	}
}
