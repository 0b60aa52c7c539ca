package wasmhost_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/plugin/wasmhost"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
)

func TestCompileRefusesWhatIsNotAConnector(t *testing.T) {
	rt := hostrun.Runtime(t)
	tests := []struct {
		name string
		wasm []byte
		want string
	}{
		{"garbage", []byte("not wasm at all"), "not a WebAssembly binary"},
		{"no yield import", []byte("\x00asm\x01\x00\x00\x00"), "no import junction.yield"},
		{"unknown ABI", wasmhost.MiniModule(2), "declares ABI 2, this host supports ABI 1"},
		{"no handle export", wasmhost.MiniModule(1, "junction_handle"), `no export "junction_handle"`},
		{"not a reactor", wasmhost.MiniModule(1, "_initialize"), `no export "_initialize"`},
		{"no memory", wasmhost.MiniModule(1, "memory"), "no exported memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rt.Compile(context.Background(), tt.wasm)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Compile error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestCompileReadsSpec(t *testing.T) {
	m := hostrun.WasmModule(t, sandboxDir)
	spec := m.Spec()
	if spec.Name != "sandbox" || spec.Version != "0.0.1" || !spec.HasRole("perform") {
		t.Errorf("spec = %+v", spec)
	}
}

func TestCompilationCacheOnDisk(t *testing.T) {
	ctx := context.Background()
	b := hostrun.BuildWasm(t, sandboxDir)
	dir := t.TempDir()
	for i := 0; i < 2; i++ { // the second runtime compiles from the cache
		rt, err := wasmhost.NewRuntime(ctx, wasmhost.RuntimeOptions{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		m, err := rt.Compile(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if m.Spec().Name != "sandbox" {
			t.Errorf("spec %+v", m.Spec())
		}
		if err := rt.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ents, err := filepathGlob(dir)
	if err != nil || len(ents) == 0 {
		t.Errorf("no compiled code cached in the cache dir (%v)", err)
	}
}

func TestSpinningInitializeIsStopped(t *testing.T) {
	ctx := context.Background()
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.RuntimeOptions{CallTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	_, err = rt.Compile(ctx, wasmhost.SpinningInit())
	if err == nil || !strings.Contains(err.Error(), "initialize: context deadline exceeded") {
		t.Errorf("Compile error = %v, want the spinning _initialize stopped at its deadline", err)
	}
}

func TestInstrumentSurvivesTruncatedModules(t *testing.T) {
	b := hostrun.BuildWasm(t, sandboxDir)
	for _, n := range []int{0, 4, 8, 9, 100, 1000, len(b) / 3, len(b) / 2, len(b) - 1} {
		if _, err := wasmhost.Instrument(b[:n]); err == nil {
			t.Errorf("instrumenting the first %d bytes succeeded", n)
		}
	}
	if _, err := wasmhost.Instrument(b); err != nil {
		t.Fatalf("instrumenting the whole module: %v", err)
	}
}
