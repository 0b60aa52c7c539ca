package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// upgradeConfig has two connections to the hello plugin, one pinned to
// 1.0.0 and one naming no version, and a workflow that greets through
// both. floatingExtra is added to the floating connection's config.
func upgradeConfig(floatingExtra string) string {
	return `apiVersion: junction/v1
kind: Connection
metadata: {name: pinned}
spec:
  connector: hello@1.0.0
  config: {greeting: Hello}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: floating}
spec:
  connector: hello
  config: {greeting: Hello` + floatingExtra + `}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: greet-both}
spec:
  trigger: {connection: floating}
  fields:
    name: {path: $.name, type: string}
  tasks:
    - name: pinned
      uses: pinned.greet
      with: {name: "{{ .fields.name }}"}
    - name: floating
      uses: floating.greet
      with: {name: "{{ .fields.name }}"}
`
}

// helloVersion copies plugins/hello (sources and manifest, no tests) into
// a directory inside the module, so that it builds against this checkout,
// with its Spec.Version set to version and its greet message ending in
// suffix. The directory starts with "_" so no ./... pattern picks it up,
// and it is removed when the test ends.
func helloVersion(t *testing.T, version, suffix string) string {
	t.Helper()
	dir, err := os.MkdirTemp(".", "_hello-"+version+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	src := filepath.Join("..", "plugins", "hello")
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || strings.HasSuffix(n, "_test.go") || !(strings.HasSuffix(n, ".go") || n == "junction-plugin.yaml") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if n == "hello.go" {
			for old, repl := range map[string]string{
				`Version:     "0.1.0",`:           `Version:     "` + version + `",`,
				`h.cfg.Greeting+", "+in.Name+"!"`: `h.cfg.Greeting+", "+in.Name+"!` + suffix + `"`,
			} {
				if strings.Count(s, old) != 1 {
					t.Fatalf("plugins/hello/hello.go no longer has %q once: update this test", old)
				}
				s = strings.Replace(s, old, repl, 1)
			}
		}
		writeFile(t, filepath.Join(dir, n), s)
	}
	return dir
}

// TestOCIUpgradeKeepsPinned: hello 1.0.0 and 1.1.0 (whose greeting says
// so) pushed signed to a registry behind basic auth; 1.0.0 installed by
// reference; a hub with a connection pinned to hello@1.0.0 and one naming
// just hello. `plugin outdated` reports 1.1.0, `plugin upgrade --constraint
// ^1` installs it beside 1.0.0 while the hub runs, and after an apply that
// reopens the floating connection, it is served by 1.1.0 while the pinned
// one, unchanged, still runs 1.0.0.
func TestOCIUpgradeKeepsPinned(t *testing.T) {
	rig := newOCIRig(t, "registry-pass-upgrade")
	host, cli, key, pub := rig.host, rig.cli, rig.key, rig.pub
	configs := t.TempDir()
	rig.trustingSettings(configs)
	writeFile(t, filepath.Join(configs, "hub.yaml"), upgradeConfig(""))

	repo := host + "/junction/hello"
	for _, v := range []struct{ version, suffix string }{{"1.0.0", ""}, {"1.1.0", " (v1.1.0)"}} {
		out := cli("plugin", "push", helloVersion(t, v.version, v.suffix), repo+":"+v.version, "--sign-key", key, "--forms", "wasm")
		if !strings.Contains(out, "pushed hello@"+v.version+" (1 form(s), signed)") {
			t.Fatalf("push %s:\n%s", v.version, out)
		}
	}

	data := t.TempDir()
	if out := cli("plugin", "install", repo+":1.0.0", "--data", data, "--config", configs); !strings.Contains(out, "installed hello@1.0.0") || !strings.Contains(out, "signed by "+pub) {
		t.Fatalf("install 1.0.0:\n%s", out)
	}
	h := startHub(t, configs, data, nil, "")
	const v10, v11 = `"Hello, ada!"`, `"Hello, ada! (v1.1.0)"`
	greetBoth(t, h, map[string]string{"pinned": v10, "floating": v10})

	out := cli("plugin", "outdated", "--data", data, "--config", configs)
	if !strings.Contains(out, "hello") || !strings.Contains(out, "1.0.0") || !strings.Contains(out, "1.1.0") || !strings.Contains(out, repo) {
		t.Fatalf("outdated:\n%s", out)
	}
	out = cli("plugin", "upgrade", "hello", "--constraint", "^1", "--data", data, "--config", configs)
	if !strings.Contains(out, "installed hello@1.1.0/wasm beside hello@1.0.0/wasm") {
		t.Fatalf("upgrade:\n%s", out)
	}
	// Installed, not yet in use: connections keep the connector they
	// were opened with until they are reopened.
	greetBoth(t, h, map[string]string{"pinned": v10, "floating": v10})

	// An unchanged connection keeps its connector across a reload (README,
	// Hot reload); a changed one is reopened and resolves its connector
	// again. pool_size is read by the host only, so the greeting is the
	// plugin's alone.
	applyDir := t.TempDir()
	writeFile(t, filepath.Join(applyDir, "settings.yaml"), mustRead(t, filepath.Join(configs, "settings.yaml")))
	writeFile(t, filepath.Join(applyDir, "hub.yaml"), upgradeConfig(", pool_size: 2"))
	out, code := junctionCLI(t, h, "apply", applyDir)
	if code != 0 || !strings.Contains(out, "connections: changed floating") || strings.Contains(out, "pinned") {
		t.Fatalf("apply (exit %d):\n%s", code, out)
	}
	greetBoth(t, h, map[string]string{"pinned": v10, "floating": v11})
	if out := cli("plugin", "outdated", "--data", data, "--config", configs); !strings.Contains(out, "newest version") {
		t.Fatalf("outdated after the upgrade:\n%s", out)
	}
}

// greetBoth runs greet-both on test data and checks each task's message.
func greetBoth(t *testing.T, h *hubProc, want map[string]string) {
	t.Helper()
	var res struct {
		Run runView `json:"run"`
	}
	if code := h.api("POST", "/workflows/greet-both/run", []byte(`{"name":"ada"}`), &res); code != 200 || res.Run.Status != "completed" {
		t.Fatalf("run greet-both: HTTP %d, %s %s", code, res.Run.Status, res.Run.Error)
	}
	for _, task := range res.Run.Tasks {
		var o struct {
			Message json.RawMessage `json:"message"`
		}
		if err := json.Unmarshal(task.Output, &o); err != nil || string(o.Message) != want[task.Name] {
			t.Errorf("task %s: output %s, want message %s", task.Name, task.Output, want[task.Name])
		}
	}
	if len(res.Run.Tasks) != len(want) {
		t.Errorf("run has %d tasks, want %d", len(res.Run.Tasks), len(want))
	}
}
