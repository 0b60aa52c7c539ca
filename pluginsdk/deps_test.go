package pluginsdk_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

const (
	module = "github.com/junctionhub/junction/"
	sdk    = module + "pluginsdk"
	// hostRun is the one SDK package allowed to depend on the rest of the
	// module: it builds a plugin and runs it under Junction's real host.
	hostRun = sdk + "/plugintest/hostrun"
)

// TestSDKStandsAlone fails when a pluginsdk package other than
// plugintest/hostrun depends, directly or not, on a package of this module
// outside pluginsdk (core/, builtin/, plugins/...): a third-party connector
// imports these packages, and must not pull in Junction's runtime, wazero or
// the go-plugin host with them. Every package under pluginsdk/ is checked,
// so a new one is covered without editing this test, for the native build and
// for the Wasm one (files under build tags differ).
func TestSDKStandsAlone(t *testing.T) {
	goTool := goCommand(t)
	for _, target := range []struct{ name, goos, goarch string }{
		{"native", runtime.GOOS, runtime.GOARCH},
		{"wasip1", "wasip1", "wasm"},
	} {
		t.Run(target.name, func(t *testing.T) {
			deps := listDeps(t, goTool, target.goos, target.goarch)
			if _, ok := deps[sdk]; !ok {
				t.Fatalf("go list did not report %s (got %d packages)", sdk, len(deps))
			}
			for _, pkg := range sortedKeys(deps) {
				var runtimeDeps []string
				for _, d := range deps[pkg] {
					if strings.HasPrefix(d, module) && d != sdk && !strings.HasPrefix(d, sdk+"/") {
						runtimeDeps = append(runtimeDeps, d)
					}
				}
				switch {
				case pkg == hostRun && target.goos != "wasip1" && len(runtimeDeps) == 0:
					// Proves the check sees what it looks for: hostrun is
					// the package that does import core.
					t.Errorf("%s depends on no package outside pluginsdk; the check is broken, or the exception is stale", pkg)
				case pkg != hostRun && len(runtimeDeps) > 0:
					t.Errorf("%s depends on %s; only %s may depend on Junction's runtime", pkg, strings.Join(runtimeDeps, ", "), hostRun)
				}
			}
		})
	}
}

// listDeps returns each pluginsdk package with its transitive dependencies
// (not those of its tests) for one target platform.
func listDeps(t *testing.T, goTool, goos, goarch string) map[string][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "list", "-e", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}{{if .Error}} ERROR:{{.Error}}{{end}}`, sdk+"/...")
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
	cmd.Dir = "." // inside the module, whatever directory the test was started from
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list (GOOS=%s GOARCH=%s): %v\n%s", goos, goarch, err, stderr.String())
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if i := strings.Index(line, " ERROR:"); i >= 0 {
			t.Fatalf("go list (GOOS=%s GOARCH=%s): %s", goos, goarch, line[i+1:])
		}
		f := strings.Fields(line)
		if len(f) > 0 {
			deps[f[0]] = f[1:]
		}
	}
	return deps
}

// goCommand is the go tool of the toolchain running this test, else the one
// on PATH.
func goCommand(t *testing.T) string {
	t.Helper()
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("this test runs go list, and finds no go tool: %v", err)
	}
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func sortedKeys(m map[string][]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
