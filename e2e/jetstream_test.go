package e2e

import (
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store/jetstream/natstest"
)

// TestJetStreamStore runs Junction on a JetStream store (an embedded NATS
// server in the test process): events become runs as on Badger, and after
// a kill -9 a node with an empty data dir and the same secret key finds
// every run, the dispatch cursor and the admin state in the stream and
// carries on without dispatching anything twice. A node with another key
// is refused.
func TestJetStreamStore(t *testing.T) {
	nats := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(nats.Shutdown)
	s := newSink(t)
	configs := copyConfigs(t, "testdata/spine")
	writeFile(t, filepath.Join(configs, "settings.yaml"), "apiVersion: junction/v1\nkind: Settings\nspec:\n  store: {type: jetstream, url: '${NATS_URL}', replicas: 1}\n")
	env := spineEnv(s)
	env["NATS_URL"] = nats.URL()
	env["JUNCTION_SECRET_KEY"] = strings.Repeat("ab", 32)

	a := startHub(t, configs, t.TempDir(), env, "")
	const n = 20
	for i := range n {
		if code, body := postEvent(t, a.URL, "k-orders", fmt.Appendf(nil, `{"kind":"order","id":"A-%d","total":1}`, i)); code/100 != 2 {
			t.Fatalf("post %d: %d %s", i, code, body)
		}
	}
	waitFor(t, 60*time.Second, "20 completed runs", func() bool {
		return len(allRuns(a, url.Values{"status": {"completed"}})) == n
	})
	a.Kill()

	b := startHub(t, configs, t.TempDir(), env, "")
	if got := len(allRuns(b, url.Values{"status": {"completed"}})); got != n {
		t.Fatalf("the second node lists %d completed runs, want %d", got, n)
	}
	if code, body := postEvent(t, b.URL, "k-orders", []byte(`{"kind":"order","id":"B-1","total":1}`)); code/100 != 2 {
		t.Fatalf("post to the second node: %d %s", code, body)
	}
	waitFor(t, 60*time.Second, "the new event's run", func() bool {
		return len(allRuns(b, url.Values{"status": {"completed"}})) == n+1
	})
	time.Sleep(500 * time.Millisecond) // a re-dispatch of old events would show by now
	if got := len(allRuns(b, url.Values{})); got != n+1 {
		t.Errorf("runs = %d, want %d: the dispatch cursor was not resumed", got, n+1)
	}
	if got := len(s.delivered()); got != n+1 {
		t.Errorf("sink received %d distinct deliveries, want %d", got, n+1)
	}
	b.Stop()

	// A node whose secret key differs from the stream's is refused at start.
	env["JUNCTION_SECRET_KEY"] = strings.Repeat("cd", 32)
	cmd := exec.Command(junctionBinary(t), "serve", "--config", configs, "--data", t.TempDir(), "--addr", freeAddr(t))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "JUNCTION_SECRET_KEY") {
		t.Errorf("a node with another key: err %v, output %s; want a refusal naming JUNCTION_SECRET_KEY", err, lastLines(string(out), 5))
	}
}
