package main

import (
	"encoding/json"
	"log/slog"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/wasm/abi"
)

func slogGroup() slog.Attr { return slog.Group("g", slog.String("k", "v")) }

// benchRequest and benchResult are the envelope of one 1 KB Segment event;
// the host's benchmark writes the request (in both encodings) with
// bench_setup, then times bench_envelope.
var bench struct {
	binReq, jsonReq []byte
	res             pluginsdk.ReceiveResult
	enc             abi.Encoder
	sink            int
}

//go:wasmexport bench_setup
func benchSetup(n int32) uint32 {
	// The host writes [binary request][JSON request][payload] into this
	// buffer, with their lengths in the first 12 bytes.
	buf := make([]byte, n)
	bench.binReq = buf
	return uint32(uintptr(pointer(buf)))
}

//go:wasmexport bench_envelope
func benchEnvelope(kind, iters int32) int32 {
	b := bench.binReq
	l1, l2, l3 := le32(b[0:]), le32(b[4:]), le32(b[8:])
	bin, js, payload := b[12:12+l1], b[12+l1:12+l1+l2], b[12+l1+l2:12+l1+l2+l3]
	for i := int32(0); i < iters; i++ {
		var req pluginsdk.HTTPRequest
		res := pluginsdk.ReceiveResult{
			Events:   []pluginsdk.Event{{Payload: payload, Type: "track", DedupKey: "m-1"}},
			Response: pluginsdk.HTTPResponse{Status: 200, Body: []byte(`{"accepted":1}`)},
		}
		switch kind {
		case 0: // binary envelope, as the ABI does it
			own := append([]byte(nil), bin...)
			var d abi.Decoder
			d.Reset(own)
			abi.GetHTTPRequest(&d, &req)
			bench.enc.Reset()
			abi.PutReceiveResult(&bench.enc, &res)
			bench.sink += len(bench.enc.B) + len(req.Body)
		case 1: // the same envelope as JSON with encoding/json
			if err := json.Unmarshal(js, &req); err != nil {
				return -1
			}
			out, err := json.Marshal(&res)
			if err != nil {
				return -1
			}
			bench.sink += len(out) + len(req.Body)
		}
	}
	return int32(bench.sink & 0x7fffffff)
}

func le32(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 | int(b[3])<<24 }

//go:noinline
func add(a, b int) int { return a + b }

// bench_calls makes n non-inlined calls (each a loop header in Go's Wasm
// code, so a termination check under WithCloseOnContextDone).
//
//go:wasmexport bench_calls
func benchCalls(n int32) int32 {
	s := 0
	for i := 0; i < int(n); i++ {
		s = add(s, i)
	}
	return int32(s & 0x7fffffff)
}

var keep [][]byte

// bench_alloc makes n small heap allocations.
//
//go:wasmexport bench_alloc
func benchAlloc(n int32) int32 {
	for i := 0; i < int(n); i++ {
		keep = append(keep[:0], make([]byte, 64))
	}
	return int32(len(keep))
}
