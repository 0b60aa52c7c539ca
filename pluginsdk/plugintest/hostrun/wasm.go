package hostrun

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/junctionhub/junction/core/plugin/build"
	"github.com/junctionhub/junction/core/plugin/wasmhost"
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

// A build takes seconds and a compile about one, so both are done once per
// test binary and shared by every test that asks for the same directory.
var shared struct {
	mu      sync.Mutex
	builds  map[string][]byte
	rt      *wasmhost.Runtime
	modules map[string]*wasmhost.Module
}

// BuildWasm builds the plugin in dir to Wasm (once per test binary) and
// returns the module bytes.
func BuildWasm(t testing.TB, dir string) []byte {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if b, ok := shared.builds[abs]; ok {
		return b
	}
	out := filepath.Join(t.TempDir(), filepath.Base(abs)+".wasm")
	if err := build.Build(context.Background(), build.Options{Dir: abs, Out: out, Target: build.TargetWasm, Progress: plugintest.LogWriter(t)}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if shared.builds == nil {
		shared.builds = map[string][]byte{}
	}
	shared.builds[abs] = b
	return b
}

// Runtime returns the Wasm runtime shared by this test binary (64 MiB memory
// limit, 10 s call timeout). It lives until the process exits.
func Runtime(t testing.TB) *wasmhost.Runtime {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	return runtimeLocked(t)
}

func runtimeLocked(t testing.TB) *wasmhost.Runtime {
	if shared.rt == nil {
		rt, err := wasmhost.NewRuntime(context.Background(), wasmhost.RuntimeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		shared.rt = rt
	}
	return shared.rt
}

// WasmModule builds (once) and compiles (once) the plugin in dir.
func WasmModule(t testing.TB, dir string) *wasmhost.Module {
	t.Helper()
	b := BuildWasm(t, dir)
	abs, _ := filepath.Abs(dir)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if m, ok := shared.modules[abs]; ok {
		return m
	}
	m, err := runtimeLocked(t).Compile(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if shared.modules == nil {
		shared.modules = map[string]*wasmhost.Module{}
	}
	shared.modules[abs] = m
	return m
}

// Wasm builds the plugin in dir to Wasm (once per test binary) and returns a
// constructor for Target.New: each call gives a fresh pooled connector of the
// module, closed when its test ends.
func Wasm(t testing.TB, dir string) func(t *testing.T) pluginsdk.Connector {
	t.Helper()
	m := WasmModule(t, dir)
	return func(t *testing.T) pluginsdk.Connector {
		c := m.NewConnector(wasmhost.PoolOptions{Size: 2})
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
}
