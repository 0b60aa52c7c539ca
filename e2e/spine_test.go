package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type runView struct {
	ID       string          `json:"id"`
	Workflow string          `json:"workflow"`
	EventID  string          `json:"eventId"`
	Status   string          `json:"status"`
	Input    json.RawMessage `json:"input"`
	Error    string          `json:"error"`
	Tasks    []struct {
		Name     string          `json:"name"`
		Status   string          `json:"status"`
		Input    json.RawMessage `json:"input"`
		Output   json.RawMessage `json:"output"`
		Attempts int             `json:"attempts"`
		Node     string          `json:"node"`
		Error    *struct {
			Message   string `json:"message"`
			Retryable bool   `json:"retryable"`
		} `json:"error"`
	} `json:"tasks"`
}

func spineEnv(s *sink) map[string]string {
	return map[string]string{"ORDERS_API_KEY": "k-orders", "SINK_URL": s.URL, "SINK_SECRET": "sink-secret"}
}

func postEvent(t *testing.T, hubURL, key string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", hubURL+"/hooks/orders-in", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String()
}

// allRuns pages through /runs with the given filter.
func allRuns(h *hubProc, q url.Values) []runView {
	var out []runView
	q.Set("limit", "500")
	for {
		var page struct {
			Runs []runView `json:"runs"`
			Next string    `json:"next"`
		}
		if code := h.api("GET", "/runs?"+q.Encode(), nil, &page); code != 200 {
			h.t.Fatalf("list runs: HTTP %d", code)
		}
		out = append(out, page.Runs...)
		if page.Next == "" {
			return out
		}
		q.Set("after", page.Next)
	}
}

func TestSpineEndToEnd(t *testing.T) {
	s := newSink(t)
	h := startHub(t, copyConfigs(t, "testdata/spine"), t.TempDir(), spineEnv(s), "")

	// Bad input first: each is refused with a precise JSON error and stores nothing.
	big := append([]byte(`{"kind":"order","pad":"`), bytes.Repeat([]byte("x"), 2<<20)...)
	big = append(big, `"}`...)
	bad := []struct {
		name string
		key  string
		body []byte
		code int
		want string
	}{
		{"malformed JSON", "k-orders", []byte(`{"kind": "order",`), 400, `"code":"bad_request"`},
		{"wrong API key", "nope", []byte(`{"kind":"order","id":"x"}`), 401, `"code":"unauthorized"`},
		{"missing API key", "", []byte(`{"kind":"order","id":"x"}`), 401, `"code":"unauthorized"`},
		{"oversized body", "k-orders", big, 413, `"code":"body_too_large"`},
	}
	for _, tc := range bad {
		code, body := postEvent(t, h.URL, tc.key, tc.body)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s: got %d %s, want %d with %s", tc.name, code, lastLines(body, 3), tc.code, tc.want)
		}
	}

	code, body := postEvent(t, h.URL, "k-orders", []byte(`{"kind":"order","id":"A-1","total":"12.50"}`))
	if code/100 != 2 {
		t.Fatalf("good event: %d %s", code, body)
	}
	var run runView
	waitFor(t, 20*time.Second, "a completed run", func() bool {
		runs := allRuns(h, url.Values{"status": {"completed"}})
		if len(runs) == 1 {
			run = runs[0]
			return true
		}
		return false
	})
	// Nothing of the bad requests reached the log: the good event is the first.
	if run.EventID != "evt_0000000000000001" {
		t.Errorf("event id = %s, want evt_0000000000000001 (a rejected request was stored)", run.EventID)
	}
	if !strings.Contains(string(run.Input), `"A-1"`) || len(run.Tasks) != 1 {
		t.Fatalf("run input/tasks: %+v", run)
	}
	tr := run.Tasks[0]
	var in struct {
		Body map[string]any `json:"body"`
	}
	json.Unmarshal(tr.Input, &in)
	if in.Body["order"] != "A-1" || in.Body["total"] != 12.5 {
		t.Errorf("rendered input = %s, want order A-1 and total 12.5 as a number", tr.Input)
	}
	if !strings.Contains(string(tr.Output), `"status":201`) || !strings.Contains(string(tr.Output), run.ID+"/deliver") {
		t.Errorf("task output = %s, want the sink's 201 answer echoing the idempotency key", tr.Output)
	}
	if got := s.delivered()[run.ID+"/deliver"]; !strings.Contains(string(got), `"order":"A-1"`) {
		t.Errorf("sink got %s", got)
	}

	// A filtered-out event creates no run.
	postEvent(t, h.URL, "k-orders", []byte(`{"kind":"refund","id":"R-1"}`))

	// A 503 with Retry-After is retried and then completes.
	s.mu.Lock()
	s.failNext = 2
	s.mu.Unlock()
	postEvent(t, h.URL, "k-orders", []byte(`{"kind":"order","id":"A-2","total":3}`))
	waitFor(t, 30*time.Second, "the retried run to complete", func() bool {
		return len(allRuns(h, url.Values{"status": {"completed"}})) == 2
	})
	runs := allRuns(h, url.Values{"workflow": {"orders-to-sink"}})
	if len(runs) != 2 {
		t.Fatalf("runs = %d, want 2 (the refund must not start a run)", len(runs))
	}
	if runs[0].Tasks[0].Attempts != 3 {
		t.Errorf("retried run attempts = %d, want 3 (two 503s, then success)", runs[0].Tasks[0].Attempts)
	}

	// Run test data through the API.
	var test struct {
		Run runView `json:"run"`
	}
	if code := h.api("POST", "/workflows/orders-to-sink/run", []byte(`{"kind":"order","id":"T-1","total":"abc"}`), &test); code != 200 {
		t.Fatalf("test run: HTTP %d", code)
	}
	if test.Run.Status != "failed" || !strings.Contains(test.Run.Error, "total") {
		t.Errorf("test run with a non-numeric total: status %s error %q, want failed naming the field", test.Run.Status, test.Run.Error)
	}

	// Metrics count what happened, per connection and reason.
	resp, err := http.Get(h.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var mbuf bytes.Buffer
	mbuf.ReadFrom(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`junction_events_accepted_total{connection="orders-in"} 3`,
		`junction_events_rejected_total{connection="orders-in",reason="bad_request"} 1`,
		`junction_events_rejected_total{connection="orders-in",reason="unauthorized"} 2`,
		`junction_events_rejected_total{connection="orders-in",reason="body_too_large"} 1`,
		`junction_runs{status="completed"} 2`,
		`junction_log_lag_events 0`,
		`junction_task_duration_seconds_count{status="completed",workflow="orders-to-sink"}`,
	} {
		if !strings.Contains(mbuf.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// The admin API needs the token.
	resp, err = http.Get(h.URL + "/api/v1/runs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("runs without token: %d, want 401", resp.StatusCode)
	}

	// Rotating the connection's key takes effect at once: the old key is
	// refused, the new one accepted.
	var rotated struct {
		Key string `json:"key"`
	}
	if code := h.api("POST", "/connections/orders-in/key/rotate", nil, &rotated); code != 200 || rotated.Key == "" {
		t.Fatalf("rotate key: HTTP %d %+v", code, rotated)
	}
	if code, body := postEvent(t, h.URL, "k-orders", []byte(`{"kind":"order","id":"K-1","total":1}`)); code != 401 {
		t.Errorf("old key after rotation: %d %s, want 401", code, body)
	}
	if code, body := postEvent(t, h.URL, rotated.Key, []byte(`{"kind":"order","id":"K-2","total":1}`)); code != 202 {
		t.Errorf("new key after rotation: %d %s, want 202", code, body)
	}
}

func TestValidateReportsPositions(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "broken.yaml")
	writeFile(t, bad, `apiVersion: junction/v1
kind: Workflow
metadata: {name: broken}
spec:
  trigger: {connection: nowhere}
  filtr: []
  tasks: []
`)
	out, err := exec.Command(junctionBinary(t), "validate", bad).CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("validate exit = %v, want status 1\n%s", err, out)
	}
	for _, want := range []string{bad + ":5:", bad + ":6:3:", "nowhere", "filtr"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
}

// TestCrashRecovery kill -9s the hub while a bounded load is being posted,
// restarts it, and checks that every acknowledged event produced exactly one
// completed run and exactly one effect at the sink.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test skipped in -short mode")
	}
	s := newSink(t)
	s.delay = 20 * time.Millisecond
	configs := copyConfigs(t, "testdata/spine")
	data := t.TempDir()
	h := startHub(t, configs, data, spineEnv(s), "")

	var acked sync.Map
	var nAcked, sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("o-%d-%d", w, i)
				sent.Add(1)
				req, _ := http.NewRequest("POST", h.URL+"/hooks/orders-in", strings.NewReader(`{"kind":"order","id":"`+id+`","total":1}`))
				req.Header.Set("X-API-Key", "k-orders")
				resp, err := client.Do(req)
				if err != nil {
					return // the hub is gone
				}
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					acked.Store(id, true)
					nAcked.Add(1)
				}
			}
		}(w)
	}
	waitFor(t, 30*time.Second, "some acknowledged events", func() bool { return nAcked.Load() >= 500 })
	h.Kill()
	close(stop)
	wg.Wait()
	t.Logf("sent %d requests, %d acknowledged before kill -9", sent.Load(), nAcked.Load())

	h2 := startHub(t, configs, data, spineEnv(s), "")
	var completed []runView
	waitFor(t, 120*time.Second, "every acknowledged event's run to complete", func() bool {
		completed = allRuns(h2, url.Values{"status": {"completed"}})
		ids := map[string]bool{}
		for _, r := range completed {
			ids[idOf(r.Input)] = true
		}
		missing := 0
		acked.Range(func(k, _ any) bool {
			if !ids[k.(string)] {
				missing++
			}
			return true
		})
		if missing > 0 {
			return false
		}
		// Events stored but not acknowledged before the kill also get runs;
		// wait for those to settle too.
		for _, st := range []string{"queued", "running", "retrying"} {
			if len(allRuns(h2, url.Values{"status": {st}})) > 0 {
				return false
			}
		}
		return true
	})
	perID := map[string]int{}
	for _, r := range allRuns(h2, url.Values{}) {
		perID[idOf(r.Input)]++
		if r.Status != "completed" {
			t.Errorf("run %s ended %s: %s", r.ID, r.Status, r.Error)
		}
	}
	delivered := map[string]int{}
	for _, body := range s.delivered() {
		var b struct {
			Order string `json:"order"`
		}
		json.Unmarshal(body, &b)
		delivered[b.Order]++
	}
	acked.Range(func(k, _ any) bool {
		id := k.(string)
		if perID[id] != 1 {
			t.Errorf("acknowledged event %s has %d runs, want exactly 1", id, perID[id])
		}
		if delivered[id] != 1 {
			t.Errorf("acknowledged event %s reached the sink %d times (after idempotency), want 1", id, delivered[id])
		}
		return true
	})
	for id, n := range perID {
		if n > 1 {
			t.Errorf("event %s has %d runs", id, n)
		}
	}
	s.mu.Lock()
	t.Logf("sink: %d calls, %d unique keys, %d duplicate calls absorbed by idempotency keys", s.calls, len(s.byKey), s.duplicates)
	s.mu.Unlock()
}

func idOf(input json.RawMessage) string {
	var v struct {
		ID string `json:"id"`
	}
	json.Unmarshal(input, &v)
	return v.ID
}
