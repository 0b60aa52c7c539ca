package abi

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
	"unsafe"
)

// Encoder appends little-endian fields to a reusable buffer.
type Encoder struct{ B []byte }

// Reset empties the buffer, keeping its capacity.
func (e *Encoder) Reset() { e.B = e.B[:0] }

func (e *Encoder) U8(v uint8) { e.B = append(e.B, v) }

func (e *Encoder) Bool(v bool) {
	if v {
		e.B = append(e.B, 1)
	} else {
		e.B = append(e.B, 0)
	}
}

func (e *Encoder) U32(v uint32) { e.B = binary.LittleEndian.AppendUint32(e.B, v) }

func (e *Encoder) I64(v int64) { e.B = binary.LittleEndian.AppendUint64(e.B, uint64(v)) }

func (e *Encoder) Bytes(b []byte) {
	e.U32(uint32(len(b)))
	e.B = append(e.B, b...)
}

func (e *Encoder) String(s string) {
	e.U32(uint32(len(s)))
	e.B = append(e.B, s...)
}

// Time writes t as unix nanoseconds; the zero time has its own marker.
func (e *Encoder) Time(t time.Time) {
	if t.IsZero() {
		e.I64(math.MinInt64)
		return
	}
	e.I64(t.UnixNano())
}

// Multi writes a header or query map.
func (e *Encoder) Multi(m map[string][]string) {
	e.U32(uint32(len(m)))
	for k, vs := range m {
		e.String(k)
		e.U32(uint32(len(vs)))
		for _, v := range vs {
			e.String(v)
		}
	}
}

// ErrShort is returned when an envelope ends before its fields do.
var ErrShort = errors.New("abi: envelope truncated or malformed")

// Decoder reads fields written by Encoder. Strings and byte slices it returns
// alias the buffer, which the caller must own and not reuse: a whole request
// is copied once and then sliced, instead of allocating per field. Byte
// slices are capped so appending to one never overwrites its neighbour.
type Decoder struct {
	b   []byte
	off int
	err error
}

// NewDecoder decodes b, which the returned values will alias.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Reset makes d decode b from the start.
func (d *Decoder) Reset(b []byte) { *d = Decoder{b: b} }

// Err is the first decoding error, if any.
func (d *Decoder) Err() error { return d.err }

// Rest returns the undecoded remainder.
func (d *Decoder) Rest() []byte {
	if d.err != nil {
		return nil
	}
	return d.b[d.off:]
}

func (d *Decoder) need(n int) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || len(d.b)-d.off < n {
		d.err = ErrShort
		return false
	}
	return true
}

func (d *Decoder) U8() uint8 {
	if !d.need(1) {
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *Decoder) Bool() bool { return d.U8() != 0 }

func (d *Decoder) U32() uint32 {
	if !d.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v
}

func (d *Decoder) I64() int64 {
	if !d.need(8) {
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return int64(v)
}

// Bytes returns nil for an empty field.
func (d *Decoder) Bytes() []byte {
	n := int(d.U32())
	if !d.need(n) || n == 0 {
		return nil
	}
	v := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return v
}

func (d *Decoder) String() string {
	n := int(d.U32())
	if !d.need(n) || n == 0 {
		return ""
	}
	s := unsafe.String(&d.b[d.off], n)
	d.off += n
	return s
}

func (d *Decoder) Time() time.Time {
	v := d.I64()
	if v == math.MinInt64 || d.err != nil {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}

// Multi reads a header or query map; nil when empty. All values share one
// backing array.
func (d *Decoder) Multi() map[string][]string {
	n := int(d.U32())
	if n == 0 || d.err != nil {
		return nil
	}
	if n > len(d.b)-d.off { // each entry takes at least 8 bytes; refuse absurd counts
		d.err = ErrShort
		return nil
	}
	m := make(map[string][]string, n)
	var backing []string
	for i := 0; i < n && d.err == nil; i++ {
		k := d.String()
		c := int(d.U32())
		if c > (len(d.b)-d.off)/4 {
			d.err = ErrShort
			return nil
		}
		if len(backing)+c > cap(backing) {
			backing = make([]string, 0, max(c, 2*n))
		}
		start := len(backing)
		for j := 0; j < c; j++ {
			backing = append(backing, d.String())
		}
		m[k] = backing[start:len(backing):len(backing)]
	}
	return m
}
