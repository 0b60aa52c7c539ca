package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
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
// "goplugin", or "" for its manifest's kind).
func installPluginAs(t *testing.T, dataDir, folder, target string) {
	t.Helper()
	dist := builtPlugin(t, folder, target)
	cmd := exec.Command(junctionBinary(t), "plugin", "install", dist, "--data", dataDir, "--config", t.TempDir())
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("junction plugin install %s: %v\n%s", folder, err, b)
	}
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
