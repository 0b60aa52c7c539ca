package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const retentionConfig = `apiVersion: junction/v1
kind: Settings
spec:
  retention: {events: 2s, runs: 2s, dead_letters: 2s}
---
` + ordersConfig

// ordersConfig receives orders (with an Idempotency-Key dedup key, window
// 2 s) and posts each to a sink.
const ordersConfig = `apiVersion: junction/v1
kind: Connection
metadata: {name: orders-in}
spec:
  connector: webhook
  auth: {type: api_key, secret: k-orders}
  config: {dedup_key_header: Idempotency-Key}
  dedup_window: 2s
---
apiVersion: junction/v1
kind: Connection
metadata: {name: sink-out}
spec:
  connector: webhook
  network: {allow_private: true}
  config: {url: "${SINK_URL}", timeout: 5s}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: orders-to-sink}
spec:
  trigger: {connection: orders-in}
  filter:
    - {path: $.kind, op: eq, value: order}
  tasks:
    - name: deliver
      uses: sink-out.post
      with:
        body: {source: junction}
`

// hubStatus is the part of GET /api/v1/status the tests read.
type hubStatus struct {
	Writable bool `json:"writable"`
	Store    struct {
		Disk struct {
			DataBytes     int64 `json:"dataBytes"`
			LSMBytes      int64 `json:"lsmBytes"`
			ValueLogBytes int64 `json:"valueLogBytes"`
			WALBytes      int64 `json:"walBytes"`
		} `json:"disk"`
		Events struct {
			Count uint64 `json:"count"`
		} `json:"events"`
		Runs        map[string]int `json:"runs"`
		DeadLetters int            `json:"deadLetters"`
		DedupKeys   int            `json:"dedupKeys"`
	} `json:"store"`
}

func (h *hubProc) status() hubStatus {
	h.t.Helper()
	var st hubStatus
	if code := h.api("GET", "/status", nil, &st); code != 200 {
		h.t.Fatalf("GET /api/v1/status: %d", code)
	}
	return st
}

func postOrder(t *testing.T, h *hubProc, dedupKey string, padBytes int) int {
	t.Helper()
	pad := make([]byte, padBytes*3/4)
	rand.Read(pad) // incompressible, so the disk really holds it
	body := fmt.Sprintf(`{"kind":"order","pad":%q}`, base64.StdEncoding.EncodeToString(pad))
	req, _ := http.NewRequest("POST", h.URL+"/hooks/orders-in", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", "k-orders")
	if dedupKey != "" {
		req.Header.Set("Idempotency-Key", dedupKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func runCount(st hubStatus) int {
	n := 0
	for _, c := range st.Store.Runs {
		n += c
	}
	return n
}

// TestRetentionExpiresAndDiskFalls runs the binary with a 2 s retention:
// events, runs and dedup keys go once it has passed, and the disk use that
// status reports falls. Payloads are large and random so that the data
// outgrows Badger's memtable and reaches its tables, where compaction can
// drop it.
func TestRetentionExpiresAndDiskFalls(t *testing.T) {
	s := newSink(t)
	cfg := t.TempDir()
	writeFile(t, filepath.Join(cfg, "hub.yaml"), retentionConfig)
	h := startHub(t, cfg, t.TempDir(), map[string]string{"SINK_URL": s.URL}, "")

	if code := postOrder(t, h, "order-1", 100); code >= 300 {
		t.Fatalf("first post: %d", code)
	}
	if st := h.status(); st.Store.DedupKeys != 1 {
		t.Fatalf("dedup keys after one keyed post: %d, want 1", st.Store.DedupKeys)
	}
	out, code := junctionCLI(t, h, "status")
	for _, want := range []string{"1 retained; oldest evt_0000000000000001", "events 2s, runs 2s, dead letters 2s", "writes       accepted", "1 in open windows"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("junction status (exit %d) lacks %q:\n%s", code, want, out)
		}
	}
	const batch, pad = 120, 500 << 10
	var peak int64
	for i := range batch {
		if code := postOrder(t, h, "", pad); code >= 300 {
			t.Fatalf("post %d: %d", i, code)
		}
		if i%10 == 9 {
			peak = max(peak, h.status().Store.Disk.DataBytes)
		}
	}
	t.Logf("after %d posts of %d KB: peak data dir %d MB", batch, pad>>10, peak>>20)

	// The window passes: events, runs and the dedup key go.
	waitFor(t, 30*time.Second, "events, runs and dedup keys expired", func() bool {
		st := h.status()
		return st.Store.Events.Count == 0 && runCount(st) == 0 && st.Store.DedupKeys == 0
	})
	if n := len(s.delivered()); n != batch+1 {
		t.Errorf("sink got %d deliveries, want %d: an event expired before its run", n, batch+1)
	}
	if code := h.api("GET", "/events/evt_0000000000000001", nil, nil); code != 404 {
		t.Errorf("GET the first event after expiry: %d, want 404", code)
	}
	// The key's window is over: the same key is a new event now.
	if code := postOrder(t, h, "order-1", 100); code >= 300 {
		t.Fatalf("repost: %d", code)
	}
	if st := h.status(); st.Store.Events.Count != 1 {
		t.Errorf("repost of an expired dedup key: %d events, want 1 (not a duplicate)", st.Store.Events.Count)
	}

	// Deletes are tombstones: the space returns once they leave the
	// memtable and a compaction merges them with the data they delete.
	// Traffic goes on (and expires in turn, 2 s later) until it has.
	fell := false
	var last hubStatus
	deadline := time.Now().Add(180 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		if code := postOrder(t, h, "", pad); code >= 300 {
			t.Fatalf("post: %d", code)
		}
		if i%10 != 9 {
			continue
		}
		last = h.status()
		if last.Store.Disk.DataBytes < peak/2 {
			t.Logf("after %d more posts: data dir %d MB (peak %d MB): %+v", i+1, last.Store.Disk.DataBytes>>20, peak>>20, last.Store.Disk)
			fell = true
			break
		}
	}
	if !fell {
		t.Errorf("disk use did not fall below half the peak of %d MB: %+v\n%s", peak>>20, last.Store.Disk, lastLines(h.out.String(), 20))
	}
}
