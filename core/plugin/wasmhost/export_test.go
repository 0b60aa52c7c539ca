package wasmhost

import (
	"bytes"
	"context"

	"github.com/tetratelabs/wazero/api"
)

// StartInstance instantiates and initialises one instance (what a pool does
// when it grows), for benchmarks. The caller closes the returned module.
func (m *Module) StartInstance(ctx context.Context) (api.Module, error) {
	in, err := m.instantiate(ctx, nil)
	if err != nil {
		return nil, err
	}
	return in.mod, nil
}

// MiniModule hand-assembles a reactor module with the Junction exports whose
// junction_abi returns abiVersion, and whose other exports do nothing; names
// listed in drop are left out.
func MiniModule(abiVersion byte, drop ...string) []byte {
	return miniModule(abiVersion, []byte{0, 0x0b}, drop...)
}

func miniModule(abiVersion byte, initBody []byte, drop ...string) []byte {
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
	imports := section(2, append(append(append([]byte{1}, name("junction")...), name("yield")...), 0, 3)...)
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
		kind, idx := byte(0), byte(i+1) // function 0 is the import
		if e == "memory" {
			kind, idx = 2, 0
		}
		exports = append(exports, name(e)...)
		exports = append(exports, kind, idx)
		n++
	}
	exportSec := section(7, append([]byte{n}, exports...)...)
	bodies := []byte{4,
		4, 0, 0x41, abiVersion, 0x0b, // i32.const abiVersion
		4, 0, 0x41, 0, 0x0b, // i32.const 0
		4, 0, 0x42, 0, 0x0b, // i64.const 0
		byte(len(initBody))}
	code := section(10, append(bodies, initBody...)...)
	var b bytes.Buffer
	b.Write([]byte{0, 'a', 's', 'm', 1, 0, 0, 0})
	for _, s := range [][]byte{types, imports, funcs, memory, exportSec, code} {
		b.Write(s)
	}
	return b.Bytes()
}

// SpinningInit is MiniModule(1) whose _initialize loops forever.
func SpinningInit() []byte {
	return miniModule(1, []byte{0, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b}) // loop; br 0; end; end
}

// Instrument exposes instrument to the external tests.
var Instrument = instrument

// GuestGOGC is the GOGC every instance starts with.
const GuestGOGC = guestGOGC
