package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store/jetstream/natstest"
)

// TestJetStreamOperations: a node on JetStream names itself in /metrics
// and on each task it runs, reports the stream's health in /readyz, and
// answers 503 once its NATS server is gone.
func TestJetStreamOperations(t *testing.T) {
	nats := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(nats.Shutdown)
	s := newSink(t)
	configs := copyConfigs(t, "testdata/spine")
	writeFile(t, filepath.Join(configs, "settings.yaml"),
		"apiVersion: junction/v1\nkind: Settings\nspec:\n  store: {type: jetstream, url: '${NATS_URL}', replicas: 1, node: ops-1}\n")
	env := spineEnv(s)
	env["NATS_URL"] = nats.URL()
	env["JUNCTION_SECRET_KEY"] = strings.Repeat("ab", 32)
	h := startHub(t, configs, t.TempDir(), env, "")

	code, body := httpGet(t, h.URL+"/readyz")
	var ready struct {
		Status string `json:"status"`
		Store  struct {
			Engine, Leader   string
			Connected        bool
			Replicas, Quorum int
		} `json:"store"`
	}
	if err := json.Unmarshal([]byte(body), &ready); err != nil || code != 200 || ready.Status != "ready" ||
		ready.Store.Engine != "jetstream" || !ready.Store.Connected || ready.Store.Leader != "n0" || ready.Store.Replicas != 1 {
		t.Fatalf("/readyz on a healthy stream: %d %s (%v)", code, body, err)
	}
	_, metrics := httpGet(t, h.URL+"/metrics")
	for _, want := range []string{
		`junction_node_info{node="ops-1",store="jetstream"} 1`,
		"junction_jetstream_connected 1",
		`junction_jetstream_ready{stream="JUNCTION"} 1`,
		`junction_jetstream_stream_leader{server="n0",stream="JUNCTION"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	if code, body := postEvent(t, h.URL, "k-orders", []byte(`{"kind":"order","id":"OPS-1","total":1}`)); code/100 != 2 {
		t.Fatalf("post: %d %s", code, body)
	}
	var runs []runView
	waitFor(t, 60*time.Second, "a completed run", func() bool {
		runs = allRuns(h, url.Values{"status": {"completed"}})
		return len(runs) == 1
	})
	var got struct {
		Run struct {
			Tasks []struct{ Name, Node string } `json:"tasks"`
		} `json:"run"`
	}
	if code := h.api("GET", "/runs/"+runs[0].ID, nil, &got); code != 200 || len(got.Run.Tasks) == 0 {
		t.Fatalf("GET run: %d, %d tasks", code, len(got.Run.Tasks))
	}
	for _, task := range got.Run.Tasks {
		if task.Node != "ops-1" {
			t.Errorf("task %s ran on node %q, want ops-1", task.Name, task.Node)
		}
	}

	nats.Shutdown()
	waitFor(t, 30*time.Second, "/readyz 503 without NATS", func() bool {
		code, body := httpGet(t, h.URL+"/readyz")
		return code == 503 && strings.Contains(body, `"store_disconnected"`)
	})
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
