package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

// benchPerform measures one notify through c, the host answering at once,
// so what is left is the connector and the boundary it sits behind.
func benchPerform(b *testing.B, c pluginsdk.Connector) {
	h := plugintest.NewHost(b)
	h.HandleHTTPFunc(func(context.Context, *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
		return &pluginsdk.HTTPResponse{Status: 200, Body: []byte("ok")}, nil
	})
	pc := h.Context(json.RawMessage(testConfig), pluginsdk.Auth{})
	// A production logger drops the per-call debug record (and the
	// go-plugin form drops it before it crosses the process boundary).
	pc.Log = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := c.Configure(context.Background(), pc); err != nil {
		b.Fatal(err)
	}
	req := notifyReq(string(readFile(b, "testdata/order.json")))
	p := c.(pluginsdk.Performer)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Perform(context.Background(), &req); err != nil {
			b.Fatal(err)
		}
	}
}

var nativeNs = sync.OnceValue(func() float64 {
	r := testing.Benchmark(func(b *testing.B) { benchPerform(b, New()) })
	return float64(r.NsPerOp())
})

// BenchmarkPerform compares a Perform natively and through a go-plugin
// process (a Perform and, inside it, the host HTTP call: two round trips).
// The goplugin case reports its cost as a multiple of the native one.
func BenchmarkPerform(b *testing.B) {
	b.Run("native", func(b *testing.B) { benchPerform(b, New()) })
	b.Run("goplugin", func(b *testing.B) {
		c := plugintest.StartGoPlugin(b, plugintest.BuildGoPlugin(b, "."))
		benchPerform(b, c)
		perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(perOp/nativeNs(), "x-native")
	})
}
