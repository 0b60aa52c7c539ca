package e2e

import (
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPluginFormsSideBySide: one connector source (plugins/slack) built as a
// Wasm module and as a go-plugin executable, both installed at the same
// version in one data dir; two connections pin one form each, and one run
// performs through both. The hub's plugin list, through the CLI, shows each
// form with the connection that uses it, and a connection without a form
// gets the preferred one (wasm).
func TestPluginFormsSideBySide(t *testing.T) {
	sink, sinkHost := startChatSink(t)
	data := t.TempDir()
	installPluginAs(t, data, "slack", "goplugin")
	installPluginAs(t, data, "slack", "wasm") // the second form of slack@0.1.0: no longer refused
	h := startHub(t, copyConfigs(t, "testdata/pluginforms"), data, map[string]string{
		"ORDERS_API_KEY": "k", "SINK_URL": "http://" + sinkHost + "/chat", "SINK_HOST": sinkHost,
	}, "")

	code, body := postEventTo(t, h.URL+"/hooks/orders-in", "k", `{"id":"O-9","status":"paid"}`)
	if code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	waitFor(t, 60*time.Second, "the run to complete", func() bool {
		return len(allRuns(h, url.Values{"status": {"completed"}})) == 1
	})
	sink.mu.Lock()
	var from []string
	for _, msg := range sink.byKey {
		if !strings.Contains(msg, "order O-9 paid") {
			t.Errorf("message %s", msg)
		}
		for _, f := range []string{"from-wasm", "from-goplugin"} {
			if strings.Contains(msg, f) {
				from = append(from, f)
			}
		}
	}
	sink.mu.Unlock()
	slices.Sort(from)
	if strings.Join(from, ",") != "from-goplugin,from-wasm" {
		t.Errorf("the sink heard from %v, want one message from each form", from)
	}

	var pl struct {
		Plugins []struct {
			ID     string   `json:"id"`
			Form   string   `json:"form"`
			Digest string   `json:"digest"`
			UsedBy []string `json:"usedBy"`
		} `json:"plugins"`
	}
	if code := h.api("GET", "/plugins", nil, &pl); code != 200 || len(pl.Plugins) != 2 {
		t.Fatalf("GET /plugins: %d %+v", code, pl)
	}
	want := map[string]string{
		"slack@0.1.0/wasm":     "wasm chat-any,chat-wasm",
		"slack@0.1.0/goplugin": "goplugin chat-native",
	}
	for _, p := range pl.Plugins {
		slices.Sort(p.UsedBy)
		if got := p.Form + " " + strings.Join(p.UsedBy, ","); got != want[p.ID] || !strings.HasPrefix(p.Digest, "sha256:") {
			t.Errorf("plugin %s: %q (digest %s), want %q", p.ID, got, p.Digest, want[p.ID])
		}
	}

	cmd := exec.Command(junctionBinary(t), "plugin", "list", "--server", h.URL, "--token", h.Token)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("plugin list --server: %v\n%s", err, out)
	}
	for _, w := range []string{"plugins installed in the hub at " + h.URL, "FORM", "USED BY", "chat-native", "chat-any,chat-wasm"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("plugin list --server does not show %q:\n%s", w, out)
		}
	}
}
