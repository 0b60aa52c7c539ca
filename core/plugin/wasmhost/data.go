package wasmhost

import (
	"encoding/binary"
	"sort"
)

// The Go linker splits a module's data into a segment at every run of more
// than a few zero bytes — over 40,000 segments for a small connector — and
// wazero evaluates and copies each one separately when it instantiates the
// module: about 3.5 ms of a 4.7 ms instance start. Segments closer than
// mergeGap bytes are merged, zeros in between, leaving a handful.
const mergeGap = 1024

type dataSegment struct {
	offset uint32
	data   []byte
}

// mergeData rewrites a data section body with close segments merged. ok is
// false (and the section must be kept as is) unless every segment is an
// active segment of memory 0 at a constant offset and none overlap.
func mergeData(body []byte) (merged []byte, count uint32, ok bool) {
	r := &reader{b: body}
	n := r.u32()
	segs := make([]dataSegment, 0, n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		if r.u32() != 0 || r.byte() != 0x41 { // active, memory 0, i32.const
			return nil, 0, false
		}
		off, okOff := r.sleb32()
		if !okOff || off < 0 || r.byte() != 0x0b {
			return nil, 0, false
		}
		data := r.bytes(int(r.u32()))
		segs = append(segs, dataSegment{uint32(off), data})
	}
	if r.err != nil || r.off != len(body) {
		return nil, 0, false
	}
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].offset < segs[j].offset })
	var out []dataSegment
	for _, s := range segs {
		if len(out) > 0 {
			last := &out[len(out)-1]
			end := last.offset + uint32(len(last.data))
			if s.offset < end {
				return nil, 0, false // overlapping segments: order would matter
			}
			if s.offset-end <= mergeGap {
				last.data = append(last.data, make([]byte, s.offset-end)...)
				last.data = append(last.data, s.data...)
				continue
			}
		}
		out = append(out, dataSegment{s.offset, append([]byte(nil), s.data...)})
	}
	merged = binary.AppendUvarint(nil, uint64(len(out)))
	for _, s := range out {
		merged = append(merged, 0x00, 0x41)
		merged = appendSLEB(merged, int64(int32(s.offset)))
		merged = append(merged, 0x0b)
		merged = binary.AppendUvarint(merged, uint64(len(s.data)))
		merged = append(merged, s.data...)
	}
	return merged, uint32(len(out)), true
}
