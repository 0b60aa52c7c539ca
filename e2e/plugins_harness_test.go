package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/junctionhub/junction/core/plugin/registry"
)

var (
	pluginMu     sync.Mutex
	pluginBuilds = map[string]string{} // plugin folder -> built dist dir
)

// builtPlugin builds plugins/<folder> once per test binary with
// `junction plugin build` and returns the folder holding the manifest and
// the artifact.
func builtPlugin(t *testing.T, folder, target string) string {
	t.Helper()
	pluginMu.Lock()
	defer pluginMu.Unlock()
	key := folder + "/" + target
	if dir, ok := pluginBuilds[key]; ok {
		return dir
	}
	out := filepath.Join(binDir(t), "dist-"+folder+"-"+target)
	// --out names the artifact; the manifest is written beside it.
	args := []string{"plugin", "build", filepath.Join("..", "plugins", folder), "--out", filepath.Join(out, folder)}
	if target != "" {
		args = append(args, "--target", target)
	}
	if b, err := exec.Command(junctionBinary(t), args...).CombinedOutput(); err != nil {
		t.Fatalf("junction plugin build %s: %v\n%s", folder, err, b)
	}
	pluginBuilds[key] = out
	return out
}

// installPlugin installs the built plugins/<folder> into a hub's data dir,
// as `junction plugin install` does for an operator.
func installPlugin(t *testing.T, dataDir, folder string) {
	t.Helper()
	installPluginAs(t, dataDir, folder, "")
}

// installPluginAs installs plugins/<folder> built for target ("wasm",
// "goplugin", or "" for its manifest's kind). The test servers a plugin
// calls are on loopback, which no bundled manifest asks for, so the plugin
// is installed as if its manifest also asked for 127.0.0.1: a plugin reaches
// only hosts that its grant and its connection's allow_hosts both allow.
func installPluginAs(t *testing.T, dataDir, folder, target string) {
	t.Helper()
	dist := builtPlugin(t, folder, target)
	hosts := append(manifestHosts(t, dist), "127.0.0.1")
	installDist(t, dataDir, withHTTPHosts(t, dist, hosts))
}

// installPluginGranting installs plugins/<folder> (its manifest's kind)
// asking for, and so granted, exactly hosts.
func installPluginGranting(t *testing.T, dataDir, folder string, hosts []string) {
	t.Helper()
	installDist(t, dataDir, withHTTPHosts(t, builtPlugin(t, folder, ""), hosts))
}

func installDist(t *testing.T, dataDir, dist string) {
	t.Helper()
	cmd := exec.Command(junctionBinary(t), "plugin", "install", dist, "--data", dataDir, "--config", t.TempDir())
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("junction plugin install %s: %v\n%s", dist, err, b)
	}
}

func manifestHosts(t *testing.T, dist string) []string {
	t.Helper()
	m := readManifest(t, dist)
	caps, _ := m["capabilities"].(map[string]any)
	var hosts []string
	if list, ok := caps["http_hosts"].([]any); ok {
		for _, h := range list {
			hosts = append(hosts, fmt.Sprint(h))
		}
	}
	return hosts
}

func readManifest(t *testing.T, dist string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dist, registry.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest in %s: %v", dist, err)
	}
	return m
}

// withHTTPHosts copies a built plugin's dist folder, its manifest asking for
// hosts instead of what it asked for (unsigned: only the artifact carries a
// checksum).
func withHTTPHosts(t *testing.T, dist string, hosts []string) string {
	t.Helper()
	m := readManifest(t, dist)
	caps, _ := m["capabilities"].(map[string]any)
	if caps == nil {
		caps = map[string]any{}
	}
	caps["http_hosts"] = hosts
	m["capabilities"] = caps
	out := t.TempDir()
	ents, err := os.ReadDir(dist)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dist, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == registry.ManifestFile {
			if b, err = yaml.Marshal(m); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(out, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func binDir(t *testing.T) string {
	t.Helper()
	return filepath.Dir(junctionBinary(t))
}

// childPIDs lists the processes whose parent is pid (from /proc).
func childPIDs(t *testing.T, pid int) []int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut after ")".
		s := string(b)
		rest := s[strings.LastIndexByte(s, ')')+2:]
		fields := strings.Fields(rest)
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			out = append(out, child)
		}
	}
	return out
}
