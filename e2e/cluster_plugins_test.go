package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/plugin/registry"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
)

// TestClusterPluginsReachEveryNode: on a JetStream store, a plugin signed
// and installed with `junction plugin install` on node A (no hub running
// there) is installed by node B when it starts, before B validates its
// configuration, so B's connections using it open and run a workflow. A
// node trusting another key refuses it and says so in /api/v1/plugins.
// `junction plugin remove` on A removes it from the running B.
func TestClusterPluginsReachEveryNode(t *testing.T) {
	nats := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(nats.Shutdown)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "signing.key")
	if err := registry.WritePrivateKey(keyFile, priv); err != nil {
		t.Fatal(err)
	}
	dist := copyConfigs(t, builtPlugin(t, "hello", "")) // signing writes the manifest: sign a copy
	junctionWithEnv(t, nil, "plugin", "sign", "--key", keyFile, dist)

	configs := copyConfigs(t, "testdata/clusterplugins")
	env := map[string]string{
		"NATS_URL": nats.URL(), "PLUGIN_KEY": registry.EncodePublicKey(pub),
		"HELLO_TOKEN": "hello-secret", "JUNCTION_SECRET_KEY": strings.Repeat("ab", 32),
	}
	dataA := t.TempDir()
	out := junctionWithEnv(t, env, "plugin", "install", dist, "--data", dataA, "--config", configs)
	if !strings.Contains(out, "shared with the cluster (bucket JUNCTION_PLUGINS)") {
		t.Fatalf("install on A did not share the plugin:\n%s", out)
	}

	// B starts with an empty data dir and a configuration using hello.
	b := startHub(t, configs, t.TempDir(), env, "")
	postHello(t, b, `{"type":"track","event":"Signed Up","context":{"traits":{"email":"ada@example.com"}}}`)
	waitFor(t, 60*time.Second, "B's run through the plugin installed on A", func() bool {
		runs := allRuns(b, url.Values{"status": {"completed"}})
		return len(runs) == 1 && strings.Contains(string(runs[0].Tasks[0].Output), "ada@example.com")
	})

	// C trusts another key only: it refuses the plugin and reports it.
	strict := t.TempDir()
	writeFile(t, filepath.Join(strict, "settings.yaml"), "apiVersion: junction/v1\nkind: Settings\nspec:\n  store: {type: jetstream, url: '${NATS_URL}', replicas: 1}\n  trusted_keys: ['"+registry.EncodePublicKey(otherPub)+"']\n  require_signatures: true\n")
	c := startHub(t, strict, t.TempDir(), env, "")
	var list pluginList
	c.api("GET", "/plugins", nil, &list)
	if len(list.Plugins) != 0 || len(list.Refused) != 1 || list.Refused[0].ID != "hello@0.1.0/wasm" ||
		!strings.Contains(list.Refused[0].Error, "does not verify") {
		t.Fatalf("C's plugins = %+v, want hello refused for its signature", list)
	}

	if out, code := junctionCLI(t, c, "plugin", "list"); code != 0 || !strings.Contains(out, "refused hello@0.1.0/wasm, shared by another node") {
		t.Errorf("junction plugin list on C (exit %d) does not show the refusal:\n%s", code, out)
	}

	// Removal on A reaches the running B, and C's refusal goes with it.
	out = junctionWithEnv(t, env, "plugin", "remove", "hello@0.1.0/wasm", "--data", dataA, "--config", configs)
	if !strings.Contains(out, "removed from the cluster") {
		t.Fatalf("remove on A:\n%s", out)
	}
	waitFor(t, 30*time.Second, "B to remove hello", func() bool {
		var l pluginList
		b.api("GET", "/plugins", nil, &l)
		return len(l.Plugins) == 0
	})
	waitFor(t, 30*time.Second, "C's refusal to clear", func() bool {
		var l pluginList
		c.api("GET", "/plugins", nil, &l)
		return len(l.Refused) == 0
	})
}

type pluginList struct {
	Plugins []struct {
		ID string `json:"id"`
	} `json:"plugins"`
	Refused []struct {
		ID    string `json:"id"`
		Error string `json:"error"`
	} `json:"refused"`
}

// junctionWithEnv runs the junction binary with env added and returns its output,
// failing the test when it fails.
func junctionWithEnv(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	cmd := exec.Command(junctionBinary(t), args...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("junction %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return string(b)
}
