package wasmhost

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func dataSection(segs ...dataSegment) []byte {
	b := binary.AppendUvarint(nil, uint64(len(segs)))
	for _, s := range segs {
		b = append(b, 0x00, 0x41)
		b = appendSLEB(b, int64(s.offset))
		b = append(b, 0x0b)
		b = binary.AppendUvarint(b, uint64(len(s.data)))
		b = append(b, s.data...)
	}
	return b
}

// memoryImage applies segments the way instantiation does.
func memoryImage(t *testing.T, body []byte) []byte {
	t.Helper()
	r := &reader{b: body}
	mem := make([]byte, 8192)
	n := r.u32()
	for i := uint32(0); i < n; i++ {
		r.u32()
		r.byte()
		off, _ := r.sleb32()
		r.byte()
		data := r.bytes(int(r.u32()))
		copy(mem[off:], data)
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	return mem
}

func TestMergeData(t *testing.T) {
	in := dataSection(
		dataSegment{3000, []byte("far away")}, // out of order, beyond mergeGap
		dataSegment{10, []byte("abc")},
		dataSegment{13, []byte("def")},  // adjacent
		dataSegment{100, []byte("xyz")}, // small gap
	)
	out, count, ok := mergeData(in)
	if !ok || count != 2 {
		t.Fatalf("mergeData = %d segments, ok %v; want 2", count, ok)
	}
	if !bytes.Equal(memoryImage(t, in), memoryImage(t, out)) {
		t.Error("merged segments do not produce the same memory")
	}
}

func TestMergeDataRefuses(t *testing.T) {
	overlap := dataSection(dataSegment{10, []byte("abcd")}, dataSegment{12, []byte("zz")})
	passive := []byte{1, 0x01, 2, 'h', 'i'} // one passive segment
	for name, body := range map[string][]byte{"overlap": overlap, "passive": passive, "truncated": overlap[:len(overlap)-1]} {
		if _, _, ok := mergeData(body); ok {
			t.Errorf("%s: mergeData accepted a section it must keep as is", name)
		}
	}
}
