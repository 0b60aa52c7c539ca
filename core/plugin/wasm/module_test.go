package wasm_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/plugin/wasm"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

// miniModule hand-assembles a reactor module with the Junction exports whose
// junction_abi returns abiVersion, and whose other exports do nothing; names
// listed in drop are left out.
func miniModule(abiVersion byte, drop ...string) []byte {
	section := func(id byte, body ...byte) []byte {
		return append([]byte{id, byte(len(body))}, body...)
	}
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	const i32, i64 = 0x7f, 0x7e
	types := section(1, 4,
		0x60, 0, 1, i32, // () -> i32
		0x60, 1, i32, 1, i32, // (i32) -> i32
		0x60, 2, i32, i32, 1, i64, // (i32, i32) -> i64
		0x60, 0, 0) // () -> ()
	funcs := section(3, 4, 0, 1, 2, 3)
	memory := section(5, 1, 0, 1)
	var exports []byte
	n := byte(0)
	for i, e := range []string{"junction_abi", "junction_buffer", "junction_handle", "_initialize", "memory"} {
		skip := false
		for _, d := range drop {
			skip = skip || d == e
		}
		if skip {
			continue
		}
		kind, idx := byte(0), byte(i)
		if e == "memory" {
			kind, idx = 2, 0
		}
		exports = append(exports, name(e)...)
		exports = append(exports, kind, idx)
		n++
	}
	exportSec := section(7, append([]byte{n}, exports...)...)
	code := section(10, 4,
		4, 0, 0x41, abiVersion, 0x0b, // i32.const abiVersion
		4, 0, 0x41, 0, 0x0b, // i32.const 0
		4, 0, 0x42, 0, 0x0b, // i64.const 0
		2, 0, 0x0b) // nothing
	var b bytes.Buffer
	b.Write([]byte{0, 'a', 's', 'm', 1, 0, 0, 0})
	for _, s := range [][]byte{types, funcs, memory, exportSec, code} {
		b.Write(s)
	}
	return b.Bytes()
}

func TestCompileRefusesWhatIsNotAConnector(t *testing.T) {
	rt := plugintest.Runtime(t)
	tests := []struct {
		name string
		wasm []byte
		want string
	}{
		{"garbage", []byte("not wasm at all"), "compile"},
		{"unknown ABI", miniModule(2), "declares ABI 2, this host supports ABI 1"},
		{"no handle export", miniModule(1, "junction_handle"), `no export "junction_handle"`},
		{"not a reactor", miniModule(1, "_initialize"), `no export "_initialize"`},
		{"no memory", miniModule(1, "memory"), "no exported memory"},
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
	m := plugintest.WasmModule(t, sandboxDir)
	spec := m.Spec()
	if spec.Name != "sandbox" || spec.Version != "0.0.1" || !spec.HasRole("perform") {
		t.Errorf("spec = %+v", spec)
	}
}

func TestCompilationCacheOnDisk(t *testing.T) {
	ctx := context.Background()
	b := plugintest.BuildWasm(t, sandboxDir)
	dir := t.TempDir()
	for i := 0; i < 2; i++ { // the second runtime compiles from the cache
		rt, err := wasm.NewRuntime(ctx, wasm.RuntimeOptions{CacheDir: dir})
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
