package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// reloadConfig is the hub's configuration at each step of the reload test.
// Version v of the orders workflow sends v in its body; from v2 on its
// mapping also reads $.kind. withNew adds the connection new-in and its
// workflow; withLegacy keeps legacy-in and its workflow.
func reloadConfig(v int, withNew, withLegacy bool) string {
	var b strings.Builder
	b.WriteString(`apiVersion: junction/v1
kind: Connection
metadata: {name: orders-in}
spec:
  connector: webhook
  auth: {type: api_key, secret: ${ORDERS_API_KEY}}
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
  fields:
    order: {path: $.id, type: string}
`)
	body := fmt.Sprintf(`{order: "{{ .fields.order }}", v: %d}`, v)
	if v >= 2 {
		b.WriteString("    kind: {path: $.kind, type: string}\n")
		body = fmt.Sprintf(`{order: "{{ .fields.order }}", kind: "{{ .fields.kind }}", v: %d}`, v)
	}
	fmt.Fprintf(&b, `  tasks:
    - name: deliver
      uses: sink-out.post
      with:
        body: %s
`, body)
	for _, c := range []struct {
		on         bool
		name, key  string
		workflowOf string
	}{{withLegacy, "legacy-in", "k-legacy", "legacy-to-sink"}, {withNew, "new-in", "k-new", "new-to-sink"}} {
		if !c.on {
			continue
		}
		fmt.Fprintf(&b, `---
apiVersion: junction/v1
kind: Connection
metadata: {name: %s}
spec:
  connector: webhook
  auth: {type: api_key, secret: %s}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: %s}
spec:
  trigger: {connection: %s}
  filter:
    - {path: $.kind, op: eq, value: order}
  fields:
    order: {path: $.id, type: string}
  tasks:
    - name: deliver
      uses: sink-out.post
      with:
        body: {order: "{{ .fields.order }}", from: %s}
`, c.name, c.key, c.workflowOf, c.name, c.name)
	}
	return b.String()
}

type reloadRun struct {
	ID            string          `json:"id"`
	Workflow      string          `json:"workflow"`
	Status        string          `json:"status"`
	ConfigVersion uint64          `json:"configVersion"`
	Input         json.RawMessage `json:"input"`
	Fields        map[string]any  `json:"fields"`
	Tasks         []struct {
		Input json.RawMessage `json:"input"`
	} `json:"tasks"`
}

type configVersion struct {
	Counter uint64 `json:"counter"`
	Digest  string `json:"digest"`
	How     string `json:"how"`
}

// ingest posts events to a hook one after another until stopped, and
// remembers those acknowledged, in order. A 404 stops it (the connection
// was removed); any other refusal fails the test.
type ingest struct {
	t        *testing.T
	url, key string
	prefix   string

	mu     sync.Mutex
	acked  []string
	got404 bool
	stop   chan struct{}
	done   chan struct{}
}

func startIngest(t *testing.T, hubURL, conn, key, prefix string) *ingest {
	in := &ingest{t: t, url: hubURL + "/hooks/" + conn, key: key, prefix: prefix, stop: make(chan struct{}), done: make(chan struct{})}
	go in.run()
	t.Cleanup(in.Stop)
	return in
}

func (in *ingest) run() {
	defer close(in.done)
	for i := 0; ; i++ {
		select {
		case <-in.stop:
			return
		default:
		}
		id := fmt.Sprintf("%s-%05d", in.prefix, i)
		req, _ := http.NewRequest("POST", in.url, strings.NewReader(fmt.Sprintf(`{"kind":"order","id":%q}`, id)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", in.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			in.t.Errorf("post %s: %v", id, err)
			return
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusAccepted, http.StatusOK:
			in.mu.Lock()
			in.acked = append(in.acked, id)
			in.mu.Unlock()
		case http.StatusNotFound:
			in.mu.Lock()
			in.got404 = true
			in.mu.Unlock()
			return
		default:
			in.t.Errorf("post %s: HTTP %d", id, resp.StatusCode)
			return
		}
		time.Sleep(3 * time.Millisecond)
	}
}

// Stop ends the ingest and waits for it.
func (in *ingest) Stop() {
	select {
	case <-in.stop:
	default:
		close(in.stop)
	}
	<-in.done
}

func (in *ingest) Acked() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.acked...)
}

// waitMore waits until at least n more events than now were acknowledged.
func (in *ingest) waitMore(n int) {
	in.t.Helper()
	want := len(in.Acked()) + n
	deadline := time.Now().Add(60 * time.Second)
	for len(in.Acked()) < want {
		if time.Now().After(deadline) {
			in.t.Fatalf("ingest on %s stalled at %d acknowledged events", in.url, len(in.Acked()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *hubProc) configVersion() configVersion {
	h.t.Helper()
	var v configVersion
	if code := h.api("GET", "/config", nil, &v); code != 200 {
		h.t.Fatalf("GET /config: HTTP %d", code)
	}
	return v
}

var errorLineRE = regexp.MustCompile(`^[^:\s]+\.yaml:\d+:\d+: .+$`)

func TestReloadUnderIngest(t *testing.T) {
	s := newSink(t)
	dir := t.TempDir()
	hubDir := filepath.Join(dir, "hub") // what the hub was started with, and reads on SIGHUP
	os.MkdirAll(hubDir, 0o755)
	writeFile(t, filepath.Join(hubDir, "hub.yaml"), reloadConfig(1, false, true))
	env := map[string]string{"ORDERS_API_KEY": "k-orders", "SINK_URL": s.URL}
	h := startHub(t, hubDir, t.TempDir(), env, "")
	v1 := h.configVersion()
	if v1.Counter == 0 || v1.How != "start" || len(v1.Digest) != 64 {
		t.Fatalf("GET /config at start = %+v", v1)
	}

	orders := startIngest(t, h.URL, "orders-in", "k-orders", "O")
	legacy := startIngest(t, h.URL, "legacy-in", "k-legacy", "L")
	orders.waitMore(50)
	legacy.waitMore(20)

	// Apply 1: change the orders mapping, add new-in, keep legacy-in.
	applyDir := filepath.Join(dir, "apply")
	os.MkdirAll(applyDir, 0o755)
	conf := filepath.Join(applyDir, "hub.yaml")
	writeFile(t, conf, reloadConfig(2, true, true))
	out, code := junctionCLI(t, h, "apply", applyDir)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("applied config version %d", v1.Counter+1)) ||
		!strings.Contains(out, "connections: added new-in") || !strings.Contains(out, "workflows: added new-to-sink; changed orders-to-sink") {
		t.Fatalf("apply 1 (exit %d):\n%s", code, out)
	}
	orders.waitMore(50)
	if code, body := postTo(t, h.URL, "new-in", "k-new", `{"kind":"order","id":"N-1"}`); code != http.StatusAccepted {
		t.Fatalf("post to the added connection: HTTP %d %s", code, body)
	}

	// Apply 2: remove legacy-in (and its workflow) while it is receiving.
	writeFile(t, conf, reloadConfig(2, true, false))
	out, code = junctionCLI(t, h, "apply", applyDir)
	if code != 0 || !strings.Contains(out, "connections: removed legacy-in") {
		t.Fatalf("apply 2 (exit %d):\n%s", code, out)
	}
	// The legacy ingest keeps posting until its connection answers 404.
	select {
	case <-legacy.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the removed connection still accepts pushes 30s after the apply")
	}
	legacy.mu.Lock()
	if !legacy.got404 {
		t.Error("the ingest on the removed connection ended without a 404")
	}
	legacy.mu.Unlock()
	if code, _ := postTo(t, h.URL, "legacy-in", "k-legacy", `{"kind":"order","id":"L-late"}`); code != http.StatusNotFound {
		t.Errorf("post to the removed connection: HTTP %d, want 404", code)
	}
	orders.waitMore(50)

	// A configuration with an error is refused, positioned, and the
	// running one stays.
	before := h.configVersion()
	bad := filepath.Join(dir, "bad")
	os.MkdirAll(bad, 0o755)
	writeFile(t, filepath.Join(bad, "hub.yaml"), strings.Replace(reloadConfig(3, true, false), "trigger: {connection: new-in}", "trigger: {connection: nwe-in}", 1))
	out, code = junctionCLI(t, h, "apply", bad)
	if code != 1 {
		t.Errorf("apply of a bad config: exit %d, want 1\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 2 || !errorLineRE.MatchString(lines[0]) || !strings.Contains(lines[0], `no Connection named "nwe-in"`) || !strings.HasSuffix(out, "\n") {
		t.Errorf("apply of a bad config printed:\n%s\nwant file:line:col: message lines", out)
	}
	if after := h.configVersion(); after != before {
		t.Errorf("a refused apply changed the version: %+v -> %+v", before, after)
	}
	// Settings need a restart: refused, at the Settings document.
	writeFile(t, filepath.Join(bad, "hub.yaml"), "apiVersion: junction/v1\nkind: Settings\nspec: {workers: 3}\n---\n"+reloadConfig(3, true, false))
	out, code = junctionCLI(t, h, "apply", bad)
	if code != 1 || !strings.Contains(out, "hub.yaml:1:1: Settings workers changed: Settings take effect only at a restart") {
		t.Errorf("apply of a Settings change (exit %d):\n%s", code, out)
	}
	orders.waitMore(50) // still serving

	// SIGHUP reads the hub's own files again: version 4 of the mapping.
	writeFile(t, filepath.Join(hubDir, "hub.yaml"), reloadConfig(4, true, false))
	if err := h.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var hup configVersion
	for hup = h.configVersion(); hup.How != "sighup"; hup = h.configVersion() {
		if time.Now().After(deadline) {
			t.Fatalf("no reload 30s after SIGHUP (version %+v)\n%s", hup, h.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if hup.Counter != before.Counter+1 {
		t.Errorf("SIGHUP version %d, want %d", hup.Counter, before.Counter+1)
	}
	orders.waitMore(50)
	orders.Stop()

	// Every acknowledged event has exactly one run, on the version it was
	// logged under: versions never go back along the log, and each run's
	// mapping and body are those of its version.
	runs := waitAllRuns(t, h, len(orders.Acked())+len(legacy.Acked())+1)
	byEvent := map[string][]reloadRun{}
	for _, r := range runs {
		byEvent[r.Workflow+"/"+idOf(r.Input)] = append(byEvent[r.Workflow+"/"+idOf(r.Input)], r)
	}
	bodyV := map[uint64]float64{v1.Counter: 1, v1.Counter + 1: 2, v1.Counter + 2: 2, hup.Counter: 4}
	var last uint64
	seen := map[uint64]int{}
	for _, id := range orders.Acked() {
		rs := byEvent["orders-to-sink/"+id]
		if len(rs) != 1 {
			t.Errorf("event %s has %d runs, want 1", id, len(rs))
			continue
		}
		r := rs[0]
		seen[r.ConfigVersion]++
		if r.ConfigVersion < last {
			t.Errorf("event %s ran on config version %d after an earlier event ran on %d", id, r.ConfigVersion, last)
		}
		last = r.ConfigVersion
		var in struct {
			Body map[string]any `json:"body"`
		}
		json.Unmarshal(r.Tasks[0].Input, &in)
		_, hasKind := r.Fields["kind"]
		if in.Body["v"] != bodyV[r.ConfigVersion] || hasKind != (r.ConfigVersion > v1.Counter) {
			t.Errorf("run %s (config version %d): body %v, fields %v: not that version's mapping", r.ID, r.ConfigVersion, in.Body, r.Fields)
		}
	}
	for _, v := range []uint64{v1.Counter, v1.Counter + 1, v1.Counter + 2, hup.Counter} {
		if seen[v] == 0 {
			t.Errorf("no run on config version %d (runs by version: %v)", v, seen)
		}
	}
	for _, id := range legacy.Acked() {
		if n := len(byEvent["legacy-to-sink/"+id]); n != 1 {
			t.Errorf("event %s of the removed connection has %d runs, want 1", id, n)
		}
	}
	if n := len(byEvent["new-to-sink/N-1"]); n != 1 {
		t.Errorf("the added connection's event has %d runs, want 1", n)
	}
	t.Logf("%d + %d events acknowledged across 4 reloads; runs by config version: %v", len(orders.Acked()), len(legacy.Acked()), seen)

	// runs show prints the version the run used.
	some := byEvent["orders-to-sink/"+orders.Acked()[0]][0]
	out, code = junctionCLI(t, h, "runs", "show", some.ID)
	if code != 0 || !strings.Contains(out, fmt.Sprintf(`"configVersion": %d`, some.ConfigVersion)) {
		t.Errorf("runs show (exit %d):\n%s", code, out)
	}
}

func postTo(t *testing.T, hubURL, conn, key, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", hubURL+"/hooks/"+conn, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post to %s: %v", conn, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String()
}

// waitAllRuns waits until n runs exist and none is unfinished, and
// returns them.
func waitAllRuns(t *testing.T, h *hubProc, n int) []reloadRun {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		var all []reloadRun
		q := url.Values{"limit": {"500"}}
		for {
			var page struct {
				Runs []reloadRun `json:"runs"`
				Next string      `json:"next"`
			}
			if code := h.api("GET", "/runs?"+q.Encode(), nil, &page); code != 200 {
				t.Fatalf("list runs: HTTP %d", code)
			}
			all = append(all, page.Runs...)
			if page.Next == "" {
				break
			}
			q.Set("after", page.Next)
		}
		done := len(all) >= n
		for _, r := range all {
			if r.Status != "completed" && r.Status != "failed" {
				done = false
			}
		}
		if done {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 120s: %d runs, want %d, all finished", len(all), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
