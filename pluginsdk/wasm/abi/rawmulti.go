package abi

import (
	"encoding/binary"
	"unsafe"
)

// RawMulti is a header or query map as Encoder.Multi wrote it, left
// undecoded: looking up a few names in it costs a Go guest far less than
// building the map (see pluginsdk.FlatHeaders). Decoder.RawMulti has
// checked its structure.
type RawMulti []byte

// First returns the first value of name: the entry whose key is name,
// exactly, as a map lookup would find it.
func (m RawMulti) First(name string) (string, bool) {
	if len(m) < 4 {
		return "", false
	}
	n := int(binary.LittleEndian.Uint32(m))
	off := 4
	str := func() string {
		l := int(binary.LittleEndian.Uint32(m[off:]))
		off += 4
		s := m[off : off+l]
		off += l
		if l == 0 {
			return ""
		}
		return unsafe.String(&s[0], l)
	}
	for range n {
		k := str()
		c := int(binary.LittleEndian.Uint32(m[off:]))
		off += 4
		if k == name && c > 0 {
			return str(), true
		}
		for range c {
			l := int(binary.LittleEndian.Uint32(m[off:]))
			off += 4 + l
		}
	}
	return "", false
}

// RawMulti reads a map written by Encoder.Multi without building it; nil
// when empty. It checks the structure as Multi would, so First never reads
// outside it.
func (d *Decoder) RawMulti() RawMulti {
	start := d.off
	n := int(d.U32())
	if n == 0 || d.err != nil {
		return nil
	}
	if n > len(d.b)-d.off {
		d.err = ErrShort
		return nil
	}
	for i := 0; i < n && d.err == nil; i++ {
		d.skipString()
		c := int(d.U32())
		if c > (len(d.b)-d.off)/4 {
			d.err = ErrShort
			return nil
		}
		for j := 0; j < c && d.err == nil; j++ {
			d.skipString()
		}
	}
	if d.err != nil {
		return nil
	}
	return RawMulti(d.b[start:d.off:d.off])
}

func (d *Decoder) skipString() {
	n := int(d.U32())
	if d.need(n) {
		d.off += n
	}
}
