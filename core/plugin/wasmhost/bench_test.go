package wasmhost_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/plugin/wasmhost"
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
	"github.com/junctionhub/junction/pluginsdk/wasm/abi"
)

// BenchmarkCompile compares compiling a module from scratch with loading it
// from the on-disk compilation cache (Runtime.Compile, spec instance included).
func BenchmarkCompile(b *testing.B) {
	ctx := context.Background()
	mod := hostrun.BuildWasm(b, sandboxDir)
	compile := func(b *testing.B, dir string) {
		rt, err := wasmhost.NewRuntime(ctx, wasmhost.RuntimeOptions{CacheDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		defer rt.Close(ctx)
		if _, err := rt.Compile(ctx, mod); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			compile(b, "")
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/compile")
	})
	b.Run("disk-cache", func(b *testing.B) {
		dir := b.TempDir()
		compile(b, dir) // warm the cache
		b.ResetTimer()
		for b.Loop() {
			compile(b, dir)
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/compile")
	})
}

// BenchmarkInstanceStart measures instantiate + _initialize of a compiled
// module: the cost of growing a pool or replacing a discarded instance.
func BenchmarkInstanceStart(b *testing.B) {
	ctx := context.Background()
	m := hostrun.WasmModule(b, sandboxDir)
	for b.Loop() {
		mod, err := m.StartInstance(ctx)
		if err != nil {
			b.Fatal(err)
		}
		_ = mod.Close(ctx)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/instance")
}

// BenchmarkCallOverhead is one Perform with a tiny input through a warm pool:
// pool, deadline, envelope and the two guest calls, nothing else.
func BenchmarkCallOverhead(b *testing.B) {
	m := hostrun.WasmModule(b, sandboxDir)
	c := m.NewConnector(wasmhost.PoolOptions{Size: 1})
	defer c.Close(context.Background())
	h := plugintest.NewHost(b)
	if err := c.Configure(context.Background(), h.Context(nil, pluginsdk.Auth{})); err != nil {
		b.Fatal(err)
	}
	req := &pluginsdk.PerformRequest{Action: "echo", Input: json.RawMessage(`{}`)}
	for b.Loop() {
		if _, err := c.Perform(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// envelopeFixture is the receive envelope of one 1 KB Segment event, in the
// binary layout and as JSON.
func envelopeFixture(b *testing.B) (req pluginsdk.HTTPRequest, bin, js, payload []byte) {
	payload, err := os.ReadFile("../../../plugins/hello/testdata/track.json")
	if err != nil {
		b.Fatal(err)
	}
	req = pluginsdk.HTTPRequest{
		Method: "POST", URL: "https://hub.example.com/hooks/segment-prod", RemoteAddr: "203.0.113.7:55123",
		Header: map[string][]string{
			"Content-Type": {"application/json"}, "User-Agent": {"Segment.io/1.0"}, "X-Signature": {"4f1b2c3d4e5f60718293a4b5c6d7e8f9"},
			"Accept-Encoding": {"gzip"}, "Content-Length": {"1089"}, "X-Forwarded-For": {"203.0.113.7"},
		},
		Body: payload,
	}
	var e abi.Encoder
	abi.PutHTTPRequest(&e, &req)
	js, _ = json.Marshal(&req)
	return req, e.B, js, payload
}

// BenchmarkEnvelope decodes a receive request and encodes its result — the
// envelope work of one event, no connector logic — with the binary layout
// and with encoding/json, natively and inside a Go guest.
func BenchmarkEnvelope(b *testing.B) {
	req, bin, js, payload := envelopeFixture(b)
	_ = req
	res := func() *pluginsdk.ReceiveResult {
		return &pluginsdk.ReceiveResult{
			Events:   []pluginsdk.Event{{Payload: payload, Type: "track", DedupKey: "m-1"}},
			Response: pluginsdk.HTTPResponse{Status: 200, Body: []byte(`{"accepted":1}`)},
		}
	}
	b.Run("native/binary", func(b *testing.B) {
		var e abi.Encoder
		for b.Loop() {
			own := append([]byte(nil), bin...)
			var r pluginsdk.HTTPRequest
			abi.GetHTTPRequest(abi.NewDecoder(own), &r)
			e.Reset()
			abi.PutReceiveResult(&e, res())
		}
	})
	b.Run("native/json", func(b *testing.B) {
		for b.Loop() {
			var r pluginsdk.HTTPRequest
			if err := json.Unmarshal(js, &r); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(res()); err != nil {
				b.Fatal(err)
			}
		}
	})
	ctx := context.Background()
	m := hostrun.WasmModule(b, sandboxDir)
	mod, err := m.StartInstance(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer mod.Close(ctx)
	blob := binary.LittleEndian.AppendUint32(nil, uint32(len(bin)))
	blob = binary.LittleEndian.AppendUint32(blob, uint32(len(js)))
	blob = binary.LittleEndian.AppendUint32(blob, uint32(len(payload)))
	blob = append(append(append(blob, bin...), js...), payload...)
	r, err := mod.ExportedFunction("bench_setup").Call(ctx, uint64(len(blob)))
	if err != nil {
		b.Fatal(err)
	}
	mod.Memory().Write(uint32(r[0]), blob)
	for kind, name := range []string{"wasm/binary", "wasm/json"} {
		b.Run(name, func(b *testing.B) {
			// One guest call runs many iterations, so the call itself does
			// not count.
			const iters = 100
			fn := mod.ExportedFunction("bench_envelope")
			start := time.Now()
			n := 0
			for b.Loop() {
				if res, err := fn.Call(ctx, uint64(kind), iters); err != nil || int32(res[0]) < 0 {
					b.Fatalf("bench_envelope: %v %v", res, err)
				}
				n += iters
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(n), "ns/envelope")
		})
	}
}

// BenchmarkInstrument is the module rewrite every Compile does (loop checks,
// data segment merge), cache hit or not.
func BenchmarkInstrument(b *testing.B) {
	mod := hostrun.BuildWasm(b, sandboxDir)
	b.SetBytes(int64(len(mod)))
	for b.Loop() {
		if _, err := wasmhost.Instrument(mod); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/module")
}
