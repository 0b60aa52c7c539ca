package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// chatSink records the messages the go-plugin connector posts. The first
// call can be held until released, so a test can kill the plugin process
// while that call is in flight.
type chatSink struct {
	mu       sync.Mutex
	byKey    map[string]string
	calls    int
	holdNext bool
	held     chan struct{} // closed when a held call has arrived
	release  chan struct{}
}

func (s *chatSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.calls++
	hold := s.holdNext
	s.holdNext = false
	s.mu.Unlock()
	if hold {
		close(s.held)
		<-s.release
	}
	s.mu.Lock()
	s.byKey[r.Header.Get("Idempotency-Key")] = string(body)
	s.mu.Unlock()
	w.Write([]byte("ok"))
}

func startChatSink(t *testing.T) (*chatSink, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &chatSink{byKey: map[string]string{}, held: make(chan struct{}), release: make(chan struct{})}
	srv := &http.Server{Handler: s}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s, ln.Addr().String()
}

func postHello(t *testing.T, h *hubProc, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", h.URL+"/hooks/hello-in", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hello-Token", "hello-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("post to the wasm connector: %d %s", resp.StatusCode, b)
	}
}

// TestPluginsCompleteARun: an event received by a Wasm connector runs a
// workflow whose tasks are a Wasm action and a go-plugin action; then the
// go-plugin process is killed in the middle of a call, that attempt fails
// as retryable, and the run completes on a restarted process.
func TestPluginsCompleteARun(t *testing.T) {
	sink, sinkHost := startChatSink(t)
	data := t.TempDir()
	installPlugin(t, data, "hello")
	installPlugin(t, data, "slack")
	h := startHub(t, copyConfigs(t, "testdata/plugins"), data, map[string]string{
		"HELLO_TOKEN": "hello-secret", "SINK_URL": "http://" + sinkHost + "/chat", "SINK_HOST": sinkHost,
	}, "")

	track := `{"type":"track","event":"Order Completed","context":{"traits":{"email":"ada@example.com"}},"properties":{"revenue":42.5}}`
	postHello(t, h, track)
	var run runView
	waitFor(t, 30*time.Second, "the plugin run to complete", func() bool {
		runs := allRuns(h, url.Values{"status": {"completed"}})
		if len(runs) == 1 {
			run = runs[0]
			return true
		}
		return false
	})
	if len(run.Tasks) != 2 || !strings.Contains(string(run.Tasks[0].Output), "ada@example.com") {
		t.Fatalf("wasm task output: %+v", run.Tasks)
	}
	sink.mu.Lock()
	msg := sink.byKey[run.ID+"/notify"]
	sink.mu.Unlock()
	if !strings.Contains(msg, "spent 42.5") || !strings.Contains(msg, "ada@example.com") {
		t.Fatalf("the go-plugin posted %q", msg)
	}

	// Kill the go-plugin process while it is posting.
	sink.mu.Lock()
	sink.holdNext = true
	sink.mu.Unlock()
	postHello(t, h, strings.Replace(track, "ada@", "bob@", 1))
	select {
	case <-sink.held:
	case <-time.After(30 * time.Second):
		t.Fatal("the second notify never reached the sink")
	}
	killed := 0
	for _, pid := range childPIDs(t, h.cmd.Process.Pid) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
			killed++
		}
	}
	if killed == 0 {
		t.Fatal("found no plugin process under the hub")
	}
	close(sink.release)
	waitFor(t, 30*time.Second, "the interrupted run to complete on retry", func() bool {
		return len(allRuns(h, url.Values{"status": {"completed"}})) == 2
	})
	runs := allRuns(h, url.Values{"status": {"completed"}})
	notify := runs[0].Tasks[1]
	if notify.Attempts < 2 {
		t.Errorf("notify attempts = %d, want a failed attempt (plugin killed) then a retry", notify.Attempts)
	}
	// The plugins API lists both, with the connections using them.
	var pl struct {
		Plugins []struct {
			Manifest struct {
				Name string `json:"name"`
				Kind string `json:"kind"`
			} `json:"manifest"`
			UsedBy []string `json:"usedBy"`
		} `json:"plugins"`
	}
	if code := h.api("GET", "/plugins", nil, &pl); code != 200 || len(pl.Plugins) != 2 {
		t.Fatalf("GET /plugins: %d %+v", code, pl)
	}
	for _, p := range pl.Plugins {
		want := map[string]string{"hello": "wasm hello-in,hello-out", "slack": "goplugin chat"}[p.Manifest.Name]
		if got := p.Manifest.Kind + " " + strings.Join(p.UsedBy, ","); got != want {
			t.Errorf("plugin %s: %q, want %q", p.Manifest.Name, got, want)
		}
	}

	// The hub survived and the plugin was restarted: a third event completes.
	postHello(t, h, strings.Replace(track, "ada@", "cy@", 1))
	waitFor(t, 30*time.Second, "a run after the restart", func() bool {
		return len(allRuns(h, url.Values{"status": {"completed"}})) == 3
	})
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(notify)
	t.Logf("interrupted task: %s", buf.String())
}

// TestOneConnectorBothForms builds one connector source as a go-plugin
// executable and as a Wasm module; the same workflow completes a run with
// each.
func TestOneConnectorBothForms(t *testing.T) {
	for _, target := range []string{"goplugin", "wasm"} {
		t.Run(target, func(t *testing.T) {
			sink, sinkHost := startChatSink(t)
			data := t.TempDir()
			installPluginAs(t, data, "slack", target)
			h := startHub(t, copyConfigs(t, "testdata/bothforms"), data, map[string]string{
				"ORDERS_API_KEY": "k", "SINK_URL": "http://" + sinkHost + "/chat", "SINK_HOST": sinkHost,
			}, "")
			code, body := postEventTo(t, h.URL+"/hooks/orders-in", "k", `{"id":"O-7","status":"paid"}`)
			if code != 202 {
				t.Fatalf("post: %d %s", code, body)
			}
			waitFor(t, 30*time.Second, "the run to complete", func() bool {
				return len(allRuns(h, url.Values{"status": {"completed"}})) == 1
			})
			sink.mu.Lock()
			defer sink.mu.Unlock()
			if len(sink.byKey) != 1 {
				t.Fatalf("sink got %d messages, want 1", len(sink.byKey))
			}
			for _, msg := range sink.byKey {
				if !strings.Contains(msg, "order O-7 paid") {
					t.Errorf("message %s", msg)
				}
			}
		})
	}
}

func postEventTo(t *testing.T, u, key, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
