package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
)

// performer configures c against a host that answers at once, so what is
// measured is the connector and the boundary it sits behind, and returns one
// notify.
func performer(b *testing.B, c pluginsdk.Connector) func() {
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
	return func() {
		if _, err := p.Perform(context.Background(), &req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPerform compares a notify natively and through a go-plugin
// process (a Perform and, inside it, the host HTTP call: two round trips).
// The goplugin case also times the native connector over the same number of
// calls and reports its own cost as a multiple of it (x-native).
func BenchmarkPerform(b *testing.B) {
	b.Run("native", func(b *testing.B) {
		perform := performer(b, New())
		b.ReportAllocs()
		for b.Loop() {
			perform()
		}
	})
	b.Run("goplugin", func(b *testing.B) {
		perform := performer(b, hostrun.StartGoPlugin(b, hostrun.BuildGoPlugin(b, ".")))
		b.ReportAllocs()
		for b.Loop() {
			perform()
		}
		b.StopTimer()
		pluginNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		native := performer(b, New())
		n := max(b.N, 1000)
		start := time.Now()
		for range n {
			native()
		}
		nativeNs := float64(time.Since(start).Nanoseconds()) / float64(n)
		b.ReportMetric(nativeNs, "native-ns/op")
		b.ReportMetric(pluginNs/nativeNs, "x-native")
	})
}
