package e2e

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPluginGrantNarrowsAllowHosts: a Wasm plugin granted host A, on
// connections whose network.allow_hosts lists A and B, reaches A and is
// refused B, and the run's error says the install grant refused it.
func TestPluginGrantNarrowsAllowHosts(t *testing.T) {
	sinkA, sinkB := newSink(t), newSink(t)
	hostA, hostB := hostOf(t, sinkA.URL), hostOf(t, sinkB.URL)
	data := t.TempDir()
	installPluginGranting(t, data, "hello", []string{hostA})

	cfg := t.TempDir()
	hub := `apiVersion: junction/v1
kind: Connection
metadata: {name: orders-in}
spec:
  connector: webhook
  auth: {type: api_key, secret: "${ORDERS_API_KEY}"}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: to-a}
spec:
  connector: hello@0.1.0
  config: {greeting: Hi, webhook_url: "${URL_A}"}
  network: {allow_hosts: ["${HOST_A}", "${HOST_B}"], allow_private: true}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: to-b}
spec:
  connector: hello@0.1.0
  config: {greeting: Hi, webhook_url: "${URL_B}"}
  network: {allow_hosts: ["${HOST_A}", "${HOST_B}"], allow_private: true}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: notify-both}
spec:
  trigger: {connection: orders-in}
  fields:
    order: {path: $.id, type: string}
  tasks:
    - {name: notify-a, uses: to-a.notify, with: {order: "{{ .fields.order }}"}}
    - {name: notify-b, uses: to-b.notify, with: {order: "{{ .fields.order }}"}}
`
	if err := os.WriteFile(filepath.Join(cfg, "hub.yaml"), []byte(hub), 0o644); err != nil {
		t.Fatal(err)
	}
	h := startHub(t, cfg, data, map[string]string{
		"ORDERS_API_KEY": "k", "URL_A": sinkA.URL, "URL_B": sinkB.URL, "HOST_A": hostA, "HOST_B": hostB,
	}, "")
	if code, body := postEvent(t, h.URL, "k", []byte(`{"id":"o-1"}`)); code != http.StatusAccepted {
		t.Fatalf("post: %d %s", code, body)
	}
	var run runView
	waitFor(t, 30*time.Second, "the run to fail", func() bool {
		runs := allRuns(h, url.Values{"status": {"failed"}})
		if len(runs) == 1 {
			run = runs[0]
			return true
		}
		return false
	})
	if len(run.Tasks) != 2 || run.Tasks[0].Status != "completed" || run.Tasks[1].Error == nil {
		t.Fatalf("tasks: %+v", run.Tasks)
	}
	msg := run.Tasks[1].Error.Message
	if want := `host "` + hostB + `" is not in plugin hello@0.1.0's install grant`; !strings.Contains(msg, want) {
		t.Errorf("notify-b error %q does not contain %q", msg, want)
	}
	sinkA.mu.Lock()
	callsA := sinkA.calls
	sinkA.mu.Unlock()
	sinkB.mu.Lock()
	callsB := sinkB.calls
	sinkB.mu.Unlock()
	if callsA != 1 || callsB != 0 {
		t.Errorf("calls: A %d (want 1), B %d (want 0)", callsA, callsB)
	}
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
