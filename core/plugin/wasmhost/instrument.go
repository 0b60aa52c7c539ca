package wasmhost

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/junctionhub/junction/pluginsdk/wasm/abi"
)

// Why this exists: wazero stops a runaway guest only when
// WithCloseOnContextDone is set, and then compiles a call out to Go at every
// loop header. Go's Wasm code opens every function with a loop, so each Go
// call and loop iteration in a guest paid a round trip to Go (measured: a
// 1 KB mapping event 65 µs instead of 21 µs, an empty call 12 µs instead of
// 2.7 µs, plus a goroutine per call). Those trips are also what lets Go's
// garbage collector stop the world while a guest runs: machine code has no
// safe points, so simply testing a flag that the host sets would let a
// spinning guest hang every goroutine of the process at the next GC.
//
// So the host rewrites the module once, before compiling it: every loop
// header counts down a fuel global and, every yieldEvery iterations, calls
// the imported host function junction.yield. That call is a Go safe point,
// and the host checks the call's deadline there, trapping the guest when it
// has passed. The common path is a few instructions; a trip to Go happens
// once per yieldEvery iterations (a few microseconds of guest work). A
// loop-free stretch of code is finite, and deep recursion ends in a stack
// overflow trap, so loops are the only place that needs checking.

// yieldEvery is how many loop iterations a guest runs between yields.
const yieldEvery = 4096

// Section ids, and their required order in a module (tag sits between memory
// and global).
const (
	secCustom   = 0
	secImport   = 2
	secGlobal   = 6
	secCode     = 10
	secData     = 11
	secDataCnt  = 12
	secTag      = 13
	opLoop      = 0x03
	opGlobalGet = 0x23
)

var sectionOrder = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, secTag: 6, secGlobal: 7, 7: 8, 8: 9, 9: 10, secDataCnt: 11, secCode: 12, secData: 13}

type section struct {
	id   byte
	body []byte
}

// instrument returns a copy of module whose loops yield to the host.
func instrument(module []byte) ([]byte, error) {
	if len(module) < 8 || string(module[:4]) != "\x00asm" {
		return nil, errors.New("not a WebAssembly binary")
	}
	r := &reader{b: module, off: 8}
	var secs []section
	for r.off < len(module) {
		id := r.byte()
		n := r.u32()
		body := r.bytes(int(n))
		if r.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, r.err)
		}
		secs = append(secs, section{id, body})
	}
	yield, importedGlobals, definedGlobals := -1, 0, 0
	for _, s := range secs {
		switch s.id {
		case secImport:
			var err error
			if yield, importedGlobals, err = scanImports(s.body); err != nil {
				return nil, fmt.Errorf("import section: %w", err)
			}
		case secGlobal:
			n, _ := leb(s.body)
			definedGlobals = int(n)
		}
	}
	if yield < 0 {
		return nil, fmt.Errorf("not a Junction connector module: no import %s.%s (build it with `junction plugin build`, which links pluginsdk/serve)", abi.HostModule, abi.HostYield)
	}
	c := check{fuel: uint32(importedGlobals + definedGlobals), yield: uint32(yield)}

	out := append([]byte(nil), module[:8]...)
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	// Merge the data segments first: a data count section must match.
	for i, s := range secs {
		if s.id != secData {
			continue
		}
		if merged, count, ok := mergeData(s.body); ok {
			secs[i].body = merged
			for j := range secs {
				if secs[j].id == secDataCnt {
					secs[j].body = binary.AppendUvarint(nil, uint64(count))
				}
			}
		}
	}
	hasGlobals := false
	for _, s := range secs {
		if !hasGlobals && s.id != secCustom && sectionOrder[s.id] > sectionOrder[secGlobal] {
			hasGlobals = true // the module had none: add one in its place
			emit(secGlobal, addFuel(nil))
		}
		switch s.id {
		case secGlobal:
			hasGlobals = true
			emit(s.id, addFuel(s.body))
		case secCode:
			body, err := instrumentCode(s.body, c)
			if err != nil {
				return nil, fmt.Errorf("code section: %w", err)
			}
			emit(s.id, body)
		default:
			emit(s.id, s.body)
		}
	}
	if !hasGlobals {
		emit(secGlobal, addFuel(nil))
	}
	return out, nil
}

// addFuel appends the fuel global (mutable i32, full tank) to a global
// section's body (nil: a new section).
func addFuel(body []byte) []byte {
	count, n := uint64(0), 0
	if body != nil {
		count, n = leb(body)
	}
	out := binary.AppendUvarint(nil, count+1)
	out = append(out, body[n:]...)
	out = append(out, 0x7f, 0x01, 0x41) // mut i32, i32.const
	out = appendSLEB(out, yieldEvery)
	return append(out, 0x0b)
}

type check struct{ fuel, yield uint32 }

// appendTo appends the check inserted after every loop's block type:
//
//	if fuel == 0 { fuel = yieldEvery; yield() } else { fuel-- }
func (c check) appendTo(dst []byte) []byte {
	dst = append(dst, opGlobalGet)
	dst = binary.AppendUvarint(dst, uint64(c.fuel))
	dst = append(dst, 0x45, 0x04, 0x40, 0x41) // i32.eqz; if; i32.const
	dst = appendSLEB(dst, yieldEvery)
	dst = append(dst, 0x24) // global.set
	dst = binary.AppendUvarint(dst, uint64(c.fuel))
	dst = append(dst, 0x10) // call
	dst = binary.AppendUvarint(dst, uint64(c.yield))
	dst = append(dst, 0x05, opGlobalGet) // else; global.get
	dst = binary.AppendUvarint(dst, uint64(c.fuel))
	dst = append(dst, 0x41, 0x01, 0x6b, 0x24) // i32.const 1; i32.sub; global.set
	dst = binary.AppendUvarint(dst, uint64(c.fuel))
	return append(dst, 0x0b) // end
}

func instrumentCode(body []byte, c check) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	out := binary.AppendUvarint(nil, uint64(n))
	var fn []byte
	for i := uint32(0); i < n && r.err == nil; i++ {
		size := r.u32()
		code := r.bytes(int(size))
		if r.err != nil {
			break
		}
		var err error
		fn, err = instrumentFunc(fn[:0], code, c)
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		out = binary.AppendUvarint(out, uint64(len(fn)))
		out = append(out, fn...)
	}
	return out, r.err
}

func instrumentFunc(dst, code []byte, c check) ([]byte, error) {
	r := &reader{b: code}
	groups := r.u32()
	for i := uint32(0); i < groups; i++ {
		r.u32()
		r.valType()
	}
	dst = append(dst, code[:r.off]...)
	for r.off < len(code) && r.err == nil {
		start := r.off
		op := r.byte()
		if err := r.skipImmediates(op); err != nil {
			return nil, fmt.Errorf("at byte %d: %w", start, err)
		}
		dst = append(dst, code[start:r.off]...)
		if op == opLoop {
			dst = c.appendTo(dst)
		}
	}
	return dst, r.err
}

// scanImports returns the function index of junction.yield (-1 if not
// imported) and the number of imported globals.
func scanImports(b []byte) (yield, globals int, err error) {
	r := &reader{b: b}
	n, funcs := r.u32(), 0
	yield = -1
	for i := uint32(0); i < n && r.err == nil; i++ {
		mod, name := r.name(), r.name()
		switch kind := r.byte(); kind {
		case 0x00: // func
			r.u32()
			if mod == abi.HostModule && name == abi.HostYield {
				yield = funcs
			}
			funcs++
		case 0x01: // table
			r.valType()
			r.limits()
		case 0x02: // memory
			r.limits()
		case 0x03: // global
			r.valType()
			r.byte()
			globals++
		case 0x04: // tag
			r.byte()
			r.u32()
		default:
			return 0, 0, fmt.Errorf("unknown import kind %d", kind)
		}
	}
	return yield, globals, r.err
}

// appendSLEB appends v as a signed LEB128 (not Go's zig-zag varint).
func appendSLEB(dst []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(dst, c)
		}
		dst = append(dst, c|0x80)
	}
}

func leb(b []byte) (uint64, int) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, 0
	}
	return v, n
}
