package wasmhost

import (
	"errors"
	"fmt"
)

// reader walks a WebAssembly binary just enough to copy instructions while
// knowing where each one ends.
type reader struct {
	b   []byte
	off int
	err error
}

var errEOF = errors.New("unexpected end of module")

func (r *reader) byte() byte {
	if r.err != nil || r.off >= len(r.b) {
		r.err = errEOF
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || len(r.b)-r.off < n {
		r.err = errEOF
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

// u32 reads an unsigned LEB128 (also used for u64 immediates we skip).
func (r *reader) u32() uint32 {
	var v uint64
	for shift := 0; shift < 70; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return uint32(v)
		}
	}
	r.err = errors.New("LEB128 too long")
	return 0
}

// sleb skips a signed LEB128 (i32.const, i64.const, block types).
func (r *reader) sleb() {
	for i := 0; i < 10; i++ {
		if c := r.byte(); r.err != nil || c&0x80 == 0 {
			return
		}
	}
	r.err = errors.New("LEB128 too long")
}

// sleb32 reads a signed LEB128 i32.
func (r *reader) sleb32() (int32, bool) {
	var v int64
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0, false
		}
		v |= int64(c&0x7f) << shift
		if c&0x80 == 0 {
			if c&0x40 != 0 {
				v -= 1 << (shift + 7)
			}
			return int32(v), true
		}
	}
	return 0, false
}

func (r *reader) name() string { return string(r.bytes(int(r.u32()))) }

func (r *reader) limits() {
	flags := r.byte()
	r.u32()
	if flags&1 != 0 {
		r.u32()
	}
}

// valType skips a value type, including the (ref null? ht) forms.
func (r *reader) valType() {
	switch r.byte() {
	case 0x63, 0x64: // ref null ht, ref ht
		r.sleb()
	}
}

// blockType skips an empty, value-typed or type-indexed block type.
func (r *reader) blockType() {
	if r.off >= len(r.b) {
		r.err = errEOF
		return
	}
	switch c := r.b[r.off]; {
	case c == 0x40 || (c >= 0x6f && c <= 0x7f):
		r.off++
	case c == 0x63 || c == 0x64:
		r.off++
		r.sleb()
	default:
		r.sleb()
	}
}

func (r *reader) memarg() {
	align := r.u32()
	if align&0x40 != 0 { // multi-memory: a memory index follows
		r.u32()
	}
	r.u32()
}

// skipImmediates skips the immediates of op, which has been read.
func (r *reader) skipImmediates(op byte) error {
	switch {
	case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0a || op == 0x0b || op == 0x0f ||
		op == 0x19 || op == 0x1a || op == 0x1b || op == 0xd1 || (op >= 0x45 && op <= 0xc4):
		// no immediates
	case op == 0x02 || op == 0x03 || op == 0x04 || op == 0x06: // block loop if try
		r.blockType()
	case op == 0x07 || op == 0x08 || op == 0x09 || op == 0x0c || op == 0x0d || op == 0x18 || // catch throw rethrow br br_if delegate
		op == 0x10 || op == 0x12 || op == 0x14 || op == 0x15 || // call return_call call_ref return_call_ref
		(op >= 0x20 && op <= 0x26) || op == 0xd2: // locals, globals, table.get/set, ref.func
		r.u32()
	case op == 0x0e: // br_table
		n := r.u32()
		for i := uint32(0); i <= n && r.err == nil; i++ {
			r.u32()
		}
	case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
		r.u32()
		r.u32()
	case op == 0x1c: // select t*
		n := r.u32()
		for i := uint32(0); i < n && r.err == nil; i++ {
			r.valType()
		}
	case op == 0x1f: // try_table
		r.blockType()
		n := r.u32()
		for i := uint32(0); i < n && r.err == nil; i++ {
			if kind := r.byte(); kind < 2 {
				r.u32() // tag
			}
			r.u32() // label
		}
	case op >= 0x28 && op <= 0x3e: // loads and stores
		r.memarg()
	case op == 0x3f || op == 0x40: // memory.size, memory.grow
		r.u32()
	case op == 0x41 || op == 0x42: // i32.const, i64.const
		r.sleb()
	case op == 0x43:
		r.bytes(4)
	case op == 0x44:
		r.bytes(8)
	case op == 0xd0: // ref.null ht
		r.sleb()
	case op == 0xfc:
		return r.skipFC()
	case op == 0xfd:
		return r.skipSIMD()
	case op == 0xfe:
		return r.skipAtomic()
	default:
		return fmt.Errorf("unsupported opcode 0x%02x", op)
	}
	return r.err
}

func (r *reader) skipFC() error {
	switch sub := r.u32(); {
	case sub <= 7: // saturating truncations
	case sub == 8: // memory.init data mem
		r.u32()
		r.u32()
	case sub == 9 || sub == 11 || sub == 13 || (sub >= 15 && sub <= 17): // data.drop, memory.fill, elem.drop, table.grow/size/fill
		r.u32()
	case sub == 10 || sub == 12 || sub == 14: // memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	default:
		return fmt.Errorf("unsupported opcode 0xfc %d", sub)
	}
	return r.err
}

func (r *reader) skipSIMD() error {
	switch sub := r.u32(); {
	case sub <= 11 || sub == 92 || sub == 93: // loads, store, load*_zero
		r.memarg()
	case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
		r.bytes(16)
	case sub >= 21 && sub <= 34: // extract/replace lane
		r.byte()
	case sub >= 84 && sub <= 91: // load/store lane
		r.memarg()
		r.byte()
	case sub <= 0x113:
		// every other SIMD and relaxed-SIMD instruction has no immediate
	default:
		return fmt.Errorf("unsupported opcode 0xfd %d", sub)
	}
	return r.err
}

func (r *reader) skipAtomic() error {
	switch sub := r.u32(); {
	case sub == 3: // atomic.fence
		r.byte()
	case sub <= 0x4e:
		r.memarg()
	default:
		return fmt.Errorf("unsupported opcode 0xfe %d", sub)
	}
	return r.err
}
