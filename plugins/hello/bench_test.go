package main

import (
	"context"
	"encoding/json"
	"runtime"
	"testing"

	"github.com/junctionhub/junction/core/plugin/wasmhost"
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
)

// BenchmarkMapping is the realistic per-event cost of a mapping connector:
// receive one ~1 KB Segment track event, filter on its type, read six fields
// and emit a new event — the same source run natively and as Wasm (warm
// pool). Compare ns/event between the sub-benchmarks.
func BenchmarkMapping(b *testing.B) {
	track := trackEvent(b)
	req := post(track)
	req.Header["User-Agent"] = []string{"Segment.io/1.0"}
	req.Header["X-Forwarded-For"] = []string{"203.0.113.7"}
	req.Header["Accept-Encoding"] = []string{"gzip"}
	req.RemoteAddr = "203.0.113.7:55123"
	run := func(b *testing.B, c pluginsdk.Connector) {
		h := plugintest.NewHost(b)
		if err := c.Configure(context.Background(), h.Context(json.RawMessage(testConfig), pluginsdk.Auth{})); err != nil {
			b.Fatal(err)
		}
		r := c.(pluginsdk.Receiver)
		ctx := context.Background()
		b.SetBytes(int64(len(track)))
		for b.Loop() {
			res, err := r.Receive(ctx, &req)
			if err != nil || len(res.Events) != 1 {
				b.Fatalf("receive: %v %v", res, err)
			}
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(ns, "ns/event")
		b.ReportMetric(1e9/ns, "events/s")
	}
	// parallel uses every core: the native connector is shared by all
	// goroutines, the Wasm one serves them from a pool of one instance each.
	parallel := func(b *testing.B, c pluginsdk.Connector) {
		h := plugintest.NewHost(b)
		if err := c.Configure(context.Background(), h.Context(json.RawMessage(testConfig), pluginsdk.Auth{})); err != nil {
			b.Fatal(err)
		}
		r := c.(pluginsdk.Receiver)
		b.SetBytes(int64(len(track)))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			req := req
			for pb.Next() {
				if res, err := r.Receive(context.Background(), &req); err != nil || len(res.Events) != 1 {
					b.Errorf("receive: %v %v", res, err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	}
	wasmConnector := func(b *testing.B, size int) *wasmhost.Connector {
		c := hostrun.WasmModule(b, ".").NewConnector(wasmhost.PoolOptions{Size: size})
		b.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
	b.Run("native", func(b *testing.B) { run(b, &Hello{}) })
	b.Run("wasm", func(b *testing.B) { run(b, wasmConnector(b, 1)) })
	b.Run("native-parallel", func(b *testing.B) { parallel(b, &Hello{}) })
	b.Run("wasm-parallel", func(b *testing.B) { parallel(b, wasmConnector(b, runtime.GOMAXPROCS(0))) })
}
