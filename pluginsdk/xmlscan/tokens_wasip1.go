//go:build wasip1

package xmlscan

import "unsafe"

// The host function served by core/plugin/wasmhost; its name and signature
// are part of the ABI (pluginsdk/wasm/abi.HostXMLTokens).

//go:wasmimport junction xml_tokens
func hostXMLTokens(doc unsafe.Pointer, n uint32, out unsafe.Pointer, outCap uint32) uint32

//go:wasmimport junction take
func hostTake(dst unsafe.Pointer, n uint32) int32

// tokens asks the host to tokenize doc, which it reads in place. The host
// writes the stream to out when it fits; otherwise it holds it until take.
// A fresh buffer per document: tokens alias it, and callers keep them.
func tokens(doc []byte) []byte {
	out := make([]byte, 2*len(doc)+64)
	n := hostXMLTokens(unsafe.Pointer(unsafe.SliceData(doc)), uint32(len(doc)), unsafe.Pointer(&out[0]), uint32(len(out)))
	if int(n) <= len(out) {
		return out[:n]
	}
	out = make([]byte, n)
	if got := hostTake(unsafe.Pointer(&out[0]), n); got != int32(n) {
		return nil // Next reports ErrStream
	}
	return out
}
