//go:build wasip1

package fields

import (
	"encoding/binary"
	"strings"
	"unsafe"
)

// Host functions served by the Junction Wasm host (core/plugin/wasmhost). The
// names and signatures are part of the ABI (see pluginsdk/wasm/abi).

//go:wasmimport junction json_paths
func hostJSONPaths(paths unsafe.Pointer, n uint32) int32

//go:wasmimport junction json_extract
func hostJSONExtract(handle int32, doc unsafe.Pointer, n uint32, spans unsafe.Pointer) int32

//go:wasmimport junction take
func hostTake(dst unsafe.Pointer, n uint32) int32

// extract asks the host to scan doc natively. The host writes one (start,
// end) pair of little-endian uint32 per path, 0xFFFFFFFF for an absent path;
// a non-zero result is the length of an error report (offset + message) the
// host holds until take.
func (p *Paths) extract(doc []byte, out [][]byte) error {
	if p.handle == 0 {
		joined := strings.Join(p.src, "\x00")
		h := hostJSONPaths(unsafe.Pointer(unsafe.StringData(joined)), uint32(len(joined)))
		if h <= 0 {
			return &SyntaxError{Msg: "internal: the host refused the path set"}
		}
		p.handle = h
	}
	// A guest is single-threaded, so the set keeps its span buffer: no
	// allocation per call (each costs about a microsecond in a Go guest).
	if len(p.scratch) < max(len(p.src), 1) { // never empty: &raw[0] below
		p.scratch = make([][2]uint32, max(len(p.src), 1))
	}
	raw := p.scratch
	if n := hostJSONExtract(p.handle, unsafe.Pointer(unsafe.SliceData(doc)), uint32(len(doc)), unsafe.Pointer(&raw[0])); n != 0 {
		report := make([]byte, n)
		hostTake(unsafe.Pointer(&report[0]), uint32(n))
		if len(report) < 4 {
			return &SyntaxError{Msg: "internal: short error report from the host"}
		}
		return &SyntaxError{Offset: int(binary.LittleEndian.Uint32(report)), Msg: string(report[4:])}
	}
	for i := range p.src {
		s, e := raw[i][0], raw[i][1]
		if s == 0xFFFFFFFF {
			out[i] = nil
			continue
		}
		out[i] = doc[s:e:e]
	}
	return nil
}

//go:wasmimport junction json_split
func hostJSONSplit(doc unsafe.Pointer, n uint32, spans unsafe.Pointer, spansCap uint32) int32

// splitScratch receives element spans (the guest is single-threaded).
var splitScratch [64][2]uint32

// elements asks the host for the element spans: a result n >= 0 is the
// element count (the spans are written when they fit, else held for take); a
// negative result is the length of a pending error report.
func elements(doc []byte) ([][]byte, error) {
	small := &splitScratch
	n := hostJSONSplit(unsafe.Pointer(unsafe.SliceData(doc)), uint32(len(doc)), unsafe.Pointer(&small[0]), uint32(len(small)*8))
	if n < 0 {
		report := make([]byte, -n)
		hostTake(unsafe.Pointer(&report[0]), uint32(-n))
		if len(report) < 4 {
			return nil, &SyntaxError{Msg: "internal: short error report from the host"}
		}
		return nil, &SyntaxError{Offset: int(binary.LittleEndian.Uint32(report)), Msg: string(report[4:])}
	}
	raw := small[:]
	if int(n) > len(small) {
		raw = make([][2]uint32, n)
		hostTake(unsafe.Pointer(&raw[0]), uint32(n)*8)
	}
	out := make([][]byte, n)
	for i := range out {
		s, e := raw[i][0], raw[i][1]
		out[i] = doc[s:e:e]
	}
	return out, nil
}
