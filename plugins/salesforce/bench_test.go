package main

import (
	"context"
	"runtime"
	"testing"

	"github.com/junctionhub/junction/core/plugin/wasmhost"
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
)

// BenchmarkReceive is the cost of turning outbound messages into events:
// the shared one-Case fixture and a full 100-notification message, the same
// source run natively and as Wasm (warm pool). Compare ns/notification.
func BenchmarkReceive(b *testing.B) {
	msgs := []struct {
		name string
		body []byte
		n    int
	}{
		{"case", fixture(b, "case-closed.xml"), 1},
		{"batch100", notificationsXML(testOrg, 100), 100},
	}
	run := func(b *testing.B, c pluginsdk.Connector, body []byte, n int) {
		r := configured(b, c, testConfig)
		req := post(body)
		ctx := context.Background()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			res, err := r.Receive(ctx, &req)
			if err != nil || len(res.Events) != n {
				b.Fatalf("receive: %v %v", res, err)
			}
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N*n)
		b.ReportMetric(ns, "ns/notification")
		b.ReportMetric(1e9/ns, "notifications/s")
	}
	// parallel uses every core: the native connector is shared by all
	// goroutines, the Wasm one serves them from a pool of one instance each.
	parallel := func(b *testing.B, c pluginsdk.Connector, body []byte, n int) {
		r := configured(b, c, testConfig)
		b.SetBytes(int64(len(body)))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			req := post(body)
			for pb.Next() {
				if res, err := r.Receive(context.Background(), &req); err != nil || len(res.Events) != n {
					b.Errorf("receive: %v %v", res, err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "notifications/s")
	}
	wasmConnector := func(b *testing.B, size int) *wasmhost.Connector {
		c := hostrun.WasmModule(b, ".").NewConnector(wasmhost.PoolOptions{Size: size})
		b.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
	for _, m := range msgs {
		b.Run(m.name+"/native", func(b *testing.B) { run(b, &Salesforce{}, m.body, m.n) })
		b.Run(m.name+"/wasm", func(b *testing.B) { run(b, wasmConnector(b, 1), m.body, m.n) })
		b.Run(m.name+"/native-parallel", func(b *testing.B) { parallel(b, &Salesforce{}, m.body, m.n) })
		b.Run(m.name+"/wasm-parallel", func(b *testing.B) { parallel(b, wasmConnector(b, runtime.GOMAXPROCS(0)), m.body, m.n) })
	}
}
