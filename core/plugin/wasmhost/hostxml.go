package wasmhost

import (
	"context"

	"github.com/tetratelabs/wazero/api"

	"github.com/junctionhub/junction/pluginsdk/xmlscan"
)

// hostXMLTokens tokenizes a guest's XML document natively: encoding/xml
// runs 15–20× slower inside a Go guest. The document is read through a
// view of guest memory, never copied; the token stream is written back
// when it fits in out, otherwise kept for take. A zero result (no
// instance, or arguments outside guest memory) reads as a malformed
// stream on the guest side, never as a document.
func hostXMLTokens(ctx context.Context, mod api.Module, st []uint64) {
	docPtr, docLen, out, outCap := api.DecodeU32(st[0]), api.DecodeU32(st[1]), api.DecodeU32(st[2]), api.DecodeU32(st[3])
	in := instanceFrom(ctx)
	if in == nil {
		st[0] = 0
		return
	}
	mem := mod.Memory()
	doc, ok := mem.Read(docPtr, docLen)
	if !ok {
		st[0] = 0
		return
	}
	stream := xmlscan.Encode(in.scratch[:0], doc)
	st[0] = api.EncodeU32(in.reply(mem, stream, out, outCap))
	if cap(stream) <= 1<<20 { // do not pin one huge document's stream
		in.scratch = stream[:0]
	}
}
