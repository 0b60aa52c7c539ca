package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/plugin/wasmhost"
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
)

// BenchmarkReceive is the connector's own cost per Segment message, the
// same source built natively and as Wasm (warm pool): a single /v1/track
// call, and /v1/batch with 100 messages, as an SDK sends them. Compare
// ns/event between the forms; e2e/segment_test.go measures the whole path
// to the directory.
//
//	go test -run '^$' -bench Receive ./plugins/segment
func BenchmarkReceive(b *testing.B) {
	track := compact(b, "track-transaction-created.json")
	batch := []byte(`{"batch":[` + strings.TrimSuffix(strings.Repeat(string(track)+",", 100), ",") + `],"sentAt":"2026-03-02T10:17:44.000Z"}`)
	cases := []struct {
		name   string
		req    pluginsdk.HTTPRequest
		events int
	}{
		{"single", sdkPost("/v1/track", track), 1},
		{"batch100", sdkPost("/v1/batch", batch), 100},
		{"signed-webhook", webhookPost(track), 1},
	}
	wasmConnector := func(b *testing.B, size int) pluginsdk.Connector {
		c := hostrun.WasmModule(b, ".").NewConnector(wasmhost.PoolOptions{Size: size})
		b.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
	for _, cs := range cases {
		for _, form := range []string{"native", "wasm"} {
			b.Run(fmt.Sprintf("%s/%s", cs.name, form), func(b *testing.B) {
				var c pluginsdk.Connector = &Segment{}
				if form == "wasm" {
					c = wasmConnector(b, 1)
				}
				run(b, c, cs.req, cs.events)
			})
		}
		b.Run(cs.name+"/wasm-parallel", func(b *testing.B) {
			parallel(b, wasmConnector(b, runtime.GOMAXPROCS(0)), cs.req, cs.events)
		})
	}
}

func configure(b *testing.B, c pluginsdk.Connector) pluginsdk.Receiver {
	b.Helper()
	if err := c.Configure(context.Background(), plugintest.NewHost(b).Context(goodConfig, goodAuth)); err != nil {
		b.Fatal(err)
	}
	return c.(pluginsdk.Receiver)
}

func run(b *testing.B, c pluginsdk.Connector, req pluginsdk.HTTPRequest, events int) {
	r := configure(b, c)
	ctx := context.Background()
	b.SetBytes(int64(len(req.Body)))
	for b.Loop() {
		res, err := r.Receive(ctx, &req)
		if err != nil || len(res.Events) != events {
			b.Fatalf("receive: %v %v", res, err)
		}
	}
	report(b, events)
}

// parallel serves every core: the Wasm connector from a pool of one
// instance per core.
func parallel(b *testing.B, c pluginsdk.Connector, req pluginsdk.HTTPRequest, events int) {
	r := configure(b, c)
	b.SetBytes(int64(len(req.Body)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := req
		for pb.Next() {
			if res, err := r.Receive(context.Background(), &req); err != nil || len(res.Events) != events {
				b.Errorf("receive: %v %v", res, err)
				return
			}
		}
	})
	report(b, events)
}

func report(b *testing.B, events int) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N*events)
	b.ReportMetric(ns, "ns/event")
	b.ReportMetric(1e9/ns, "events/s")
}
