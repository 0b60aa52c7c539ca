package e2e

import (
	"bytes"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// tickConfig fires the workflow tick every minute (schedule.MinEvery, the
// shortest period a schedule may have); each run posts its slot to the sink.
const tickConfig = `apiVersion: junction/v1
kind: Connection
metadata: {name: sink-out}
spec:
  connector: webhook
  network: {allow_private: true}
  config: {url: "${SINK_URL}", signing_secret: "${SINK_SECRET}", timeout: 5s}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: tick}
spec:
  trigger: {schedule: {every: 1m}}
  fields:
    slot: {path: $.scheduledAt, type: string}
  tasks:
    - name: deliver
      uses: sink-out.post
      with: {body: {slot: "{{ .fields.slot }}"}}
`

// TestClusterSchedule runs a one-minute schedule on three junction nodes
// sharing an R3 stream on three NATS processes: the first slot fires once
// cluster-wide; after the node that held its lease is killed with -9, the
// next slot fires once, on one of the other two.
func TestClusterSchedule(t *testing.T) {
	if testing.Short() {
		t.Skip("two schedule periods of a minute")
	}
	t.Parallel()
	s := newSink(t)
	configs := t.TempDir()
	writeFile(t, filepath.Join(configs, "tick.yaml"), tickConfig)
	c := startCluster(t, configs, map[string]string{"SINK_URL": s.URL, "SINK_SECRET": "sink-secret"})
	defer c.logs()
	leases := c.watchLeases(t, "schedule/"+url.PathEscape("workflow/tick"))

	// slotRuns groups the tick runs a live node lists by their slot.
	slotRuns := func(h *hubProc) map[string][]runView {
		out := map[string][]runView{}
		for _, r := range allRuns(h, url.Values{"workflow": {"tick"}}) {
			var in struct{ ScheduledAt string }
			json.Unmarshal(r.Input, &in)
			out[in.ScheduledAt] = append(out[in.ScheduledAt], r)
		}
		return out
	}
	// waitSlots waits until n slots each have a completed run, and every
	// live node has moved its schedule past the last of them: no node
	// still considers it due.
	waitSlots := func(live []int, n int) []string {
		t.Helper()
		var slots []string
		waitFor(t, 150*time.Second, fmt.Sprintf("%d fired slots", n), func() bool {
			runs := slotRuns(c.Hubs[live[0]])
			slots = slots[:0]
			for slot, rs := range runs {
				for _, r := range rs {
					if r.Status == "completed" {
						slots = append(slots, slot)
						break
					}
				}
			}
			return len(slots) >= n
		})
		sort.Strings(slots)
		last, _ := time.Parse(time.RFC3339Nano, slots[len(slots)-1])
		for _, i := range live {
			waitFor(t, 30*time.Second, c.Nodes[i]+" to move past slot "+slots[len(slots)-1], func() bool {
				var st struct {
					Schedules []struct {
						Key  string
						Next time.Time
					}
				}
				return c.Hubs[i].api("GET", "/schedules", nil, &st) == 200 && len(st.Schedules) == 1 && st.Schedules[0].Next.After(last)
			})
		}
		return slots
	}

	slots := waitSlots([]int{0, 1, 2}, 1)
	first, _ := time.Parse(time.RFC3339Nano, slots[0])
	holder := leases.firstAfter(first)
	victim := -1
	for i, n := range c.Nodes {
		if n == holder {
			victim = i
		}
	}
	if victim < 0 {
		t.Fatalf("no lease on the schedule taken by a junction node at slot %s (acquisitions: %v)", slots[0], leases.all())
	}
	t.Logf("slot %s fired under the lease of %s; kill -9 %s", slots[0], holder, holder)
	c.killHub(victim)
	var live []int
	for i := range c.Hubs {
		if i != victim {
			live = append(live, i)
		}
	}

	slots = waitSlots(live, 2)
	runs := slotRuns(c.Hubs[live[0]])
	if len(runs) != 2 {
		t.Errorf("runs for %d slots %v, want 2", len(runs), slots)
	}
	for _, slot := range slots {
		rs := runs[slot]
		if len(rs) != 1 || rs[0].Status != "completed" {
			t.Errorf("slot %s: %d runs %+v, want exactly one, completed", slot, len(rs), rs)
			continue
		}
		t.Logf("slot %s ran on %s", slot, lastNode(rs[0]))
	}
	second, _ := time.Parse(time.RFC3339Nano, slots[1])
	if d := second.Sub(first); d != time.Minute {
		t.Errorf("slots %s and %s are %s apart, want one period (1m)", slots[0], slots[1], d)
	}
	if got := leases.firstAfter(second); got == "" || got == holder {
		t.Errorf("slot %s fired under the lease of %q, want a live node", slots[1], got)
	}
	if r := runs[slots[1]]; len(r) == 1 && lastNode(r[0]) == holder {
		t.Errorf("slot %s ran on %s, which was killed before it", slots[1], holder)
	}
	perSlot := map[string]int{}
	for _, body := range s.delivered() {
		var b struct{ Slot string }
		json.Unmarshal(body, &b)
		perSlot[b.Slot]++
	}
	for _, slot := range slots {
		if perSlot[slot] != 1 {
			t.Errorf("slot %s reached the sink %d times, want 1 (all: %v)", slot, perSlot[slot], perSlot)
		}
	}
}

// leaseWatch records who took a lease, from the lease's values as the store
// writes them (subject layout: core/store/jetstream/doc.go).
type leaseWatch struct {
	mu   sync.Mutex
	acqs []leaseAcq
}

type leaseAcq struct {
	At   time.Time
	Node string
}

// watchLeases subscribes to the values of lease/<name> in the JUNCTION
// stream and records each acquisition with the node that took it.
func (c *cluster) watchLeases(t *testing.T, name string) *leaseWatch {
	t.Helper()
	nc, err := nats.Connect(c.NATSURL, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	b32 := base32.HexEncoding.WithPadding(base32.NoPadding)
	subj := "JUNCTION.kv"
	for _, seg := range strings.Split("lease/"+name, "/") {
		subj += "._" + b32.EncodeToString([]byte(seg))
	}
	w := &leaseWatch{}
	_, err = nc.Subscribe(subj, func(m *nats.Msg) {
		var v struct {
			Owner string `json:"owner"`
			Nonce string `json:"nonce"`
		}
		if json.Unmarshal(m.Data, &v) != nil || v.Nonce == "" {
			return // a release or a renewal's tombstone
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if n := len(w.acqs); n > 0 && w.acqs[n-1].Node == c.ownerNode(v.Owner) && time.Since(w.acqs[n-1].At) < time.Second {
			return // a renewal
		}
		w.acqs = append(w.acqs, leaseAcq{At: time.Now(), Node: c.ownerNode(v.Owner)})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return w
}

// ownerNode maps a lease owner (the node name, or host:pid) to a node name.
func (c *cluster) ownerNode(owner string) string {
	for _, n := range c.Nodes {
		if owner == n {
			return n
		}
	}
	if i := strings.LastIndexByte(owner, ':'); i >= 0 {
		if pid, err := strconv.Atoi(owner[i+1:]); err == nil {
			if n := c.nodeOfPID(pid); n != "" {
				return n
			}
		}
	}
	return owner
}

// firstAfter names the node of the first acquisition at or after t: the
// node that fired the slot due at t (others that find the lease free later
// find the slot fired and do nothing).
func (w *leaseWatch) firstAfter(t time.Time) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range w.acqs {
		if !a.At.Before(t) {
			return a.Node
		}
	}
	return ""
}

func (w *leaseWatch) all() []leaseAcq {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]leaseAcq(nil), w.acqs...)
}

// identifyConfig upserts each person posted to people-in in POOL_cluster.
const identifyConfig = `apiVersion: junction/v1
kind: Directory
metadata: {name: POOL_cluster}
spec: {dedup: [email]}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: people-in}
spec:
  connector: webhook
  auth: {type: api_key, secret: "${PEOPLE_API_KEY}"}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: identify}
spec:
  trigger: {connection: people-in}
  fields:
    email: {path: $.email, type: string}
    seq:   {path: $.seq, type: number}
  tasks:
    - name: contact
      uses: directory.upsert_contact
      with:
        directory: POOL_cluster
        contact: {email: "{{ .fields.email }}", firstName: Ann}
        embedded: {seq: "{{ .fields.seq }}"}
`

// TestClusterDirectory: 50 identifies of one new person posted at once,
// spread over three junction nodes sharing one stream and with the email
// written differently, leave exactly one contact, which every node finds.
func TestClusterDirectory(t *testing.T) {
	t.Parallel()
	configs := t.TempDir()
	writeFile(t, filepath.Join(configs, "identify.yaml"), identifyConfig)
	// Two workers a node: with 64, the first node's idle workers would
	// claim every run, and the race this test is about is between nodes.
	c := startCluster(t, configs, map[string]string{"PEOPLE_API_KEY": "k-people", "JUNCTION_WORKERS": "2"})
	defer c.logs()

	const n = 50
	emails := []string{"ann@example.com", " Ann@Example.com", "ANN@EXAMPLE.COM "}
	client := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := fmt.Sprintf(`{"seq":%d,"email":%q}`, i, emails[i%len(emails)])
			req, _ := http.NewRequest("POST", c.Hubs[i%3].URL+"/hooks/people-in", bytes.NewReader([]byte(body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-API-Key", "k-people")
			resp, err := client.Do(req)
			if err != nil {
				t.Errorf("identify %d on %s: %v", i, c.Nodes[i%3], err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				t.Errorf("identify %d on %s: HTTP %d", i, c.Nodes[i%3], resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	var runs []runView
	waitFor(t, 120*time.Second, "a completed run of each identify and no run left to finish", func() bool {
		runs = allRuns(c.Hubs[0], url.Values{"workflow": {"identify"}})
		done := map[float64]bool{}
		for _, r := range runs {
			switch r.Status {
			case "queued", "running", "retrying":
				return false
			case "completed":
				var in struct{ Seq float64 }
				json.Unmarshal(r.Input, &in)
				done[in.Seq] = true
			}
		}
		return len(done) == n
	})
	byNode := map[string]int{}
	for _, r := range runs {
		if r.Status != "completed" {
			t.Errorf("run %s ended %s: %s", r.ID, r.Status, r.Error)
			continue
		}
		byNode[lastNode(r)]++
	}
	t.Logf("%d runs for %d identifies, by node: %v", len(runs), n, byNode)
	if len(byNode) < 2 {
		t.Errorf("every identify ran on one node (%v): the test did not race nodes against each other", byNode)
	}

	var id string
	for i, h := range c.Hubs {
		var found struct {
			Contacts []struct {
				ID    string `json:"id"`
				Email string `json:"email"`
			} `json:"contacts"`
		}
		if code := h.api("GET", "/directories/POOL_cluster/contacts?email=ann%40example.com", nil, &found); code != 200 || len(found.Contacts) != 1 {
			t.Fatalf("%s finds %+v (HTTP %d), want exactly one contact", c.Nodes[i], found.Contacts, code)
		}
		if id == "" {
			id = found.Contacts[0].ID
		} else if found.Contacts[0].ID != id {
			t.Errorf("%s finds contact %s, %s finds %s", c.Nodes[0], id, c.Nodes[i], found.Contacts[0].ID)
		}
	}
	var dirs struct {
		Directories []struct {
			ID       string `json:"id"`
			Contacts int    `json:"contacts"`
		} `json:"directories"`
	}
	if code := c.Hubs[1].api("GET", "/directories", nil, &dirs); code != 200 || len(dirs.Directories) != 1 || dirs.Directories[0].Contacts != 1 {
		t.Errorf("GET /directories: HTTP %d %+v, want POOL_cluster with 1 contact", code, dirs)
	}
}
