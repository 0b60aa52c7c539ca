package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/plugin/wasmhost"
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
)

// benchHost answers Marketo calls in process with canned bodies, so the
// benchmarks measure the connector (and, for Wasm, the sandbox) rather than
// the network: a token, the createOrUpdate response, and an activities page
// of 300 records. The KV (token, shared rate window) is plugintest's.
func benchHost(b *testing.B) *plugintest.Host {
	b.Helper()
	token := fixture(b, "identity-token.json")
	upsert := fixture(b, "leads-createOrUpdate-response.json")
	acts := make([]string, 300)
	for i := range acts {
		acts[i] = fmt.Sprintf(`{"id":%d,"marketoGUID":"%d","leadId":%d,"activityDate":"2026-03-02T10:20:00Z","activityTypeId":1,`+
			`"primaryAttributeValueId":71,"primaryAttributeValue":"localhost/page.html",`+
			`"attributes":[{"name":"Client IP Address","value":"203.0.113.7"},{"name":"Query Parameters","value":""}]}`, 102988+i, 102988+i, 50+i%7)
	}
	page := []byte(`{"requestId":"24fd#15188a88d7f","success":true,"nextPageToken":"WQV2VQVPPCKHC6AQYVK7JDSA3J62DUSJ3EXJGDPTKPEBFW3SAVUA====","moreResult":true,"result":[` +
		strings.Join(acts, ",") + `]}`)
	h := plugintest.NewHost(b)
	h.HandleHTTPFunc(func(_ context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
		switch {
		case strings.Contains(req.URL, "/identity/oauth/token"):
			return &pluginsdk.HTTPResponse{Status: 200, Body: token}, nil
		case strings.Contains(req.URL, "/rest/v1/activities.json"):
			return &pluginsdk.HTTPResponse{Status: 200, Body: page}, nil
		}
		return &pluginsdk.HTTPResponse{Status: 200, Body: upsert}, nil
	})
	return h
}

// benchForms runs fn on the same source built natively and as Wasm (a warm
// pool of one instance).
func benchForms(b *testing.B, fn func(b *testing.B, c pluginsdk.Connector)) {
	// rate_limit 0: the benchmark makes far more than 100 calls per 20 s.
	cfg := json.RawMessage(`{"base_url": "https://123-ABC-456.mktorest.com", "rate_limit": 0}`)
	auth := pluginsdk.Auth{Type: pluginsdk.AuthOAuth2, ClientID: "id", ClientSecret: "secret"}
	run := func(b *testing.B, c pluginsdk.Connector) {
		pc := benchHost(b).Context(cfg, auth)
		// Production logs at info: the host's per-request debug records
		// would otherwise be formatted into the benchmark's log.
		pc.Log = slog.New(slog.DiscardHandler)
		if err := c.Configure(context.Background(), pc); err != nil {
			b.Fatal(err)
		}
		fn(b, c)
	}
	b.Run("native", func(b *testing.B) { run(b, New()) })
	b.Run("wasm", func(b *testing.B) {
		c := hostrun.WasmModule(b, ".").NewConnector(wasmhost.PoolOptions{Size: 1})
		b.Cleanup(func() { _ = c.Close(context.Background()) })
		run(b, c)
	})
}

// BenchmarkPerform is one upsert_lead task: read the input, build the
// createOrUpdate body, call Marketo through the host, read the result.
func BenchmarkPerform(b *testing.B) {
	benchForms(b, func(b *testing.B, c pluginsdk.Connector) {
		p := c.(pluginsdk.Performer)
		req := &pluginsdk.PerformRequest{Action: actionUpsert, Input: json.RawMessage(annaLead), Attempt: 1}
		ctx := context.Background()
		for b.Loop() {
			if res, err := p.Perform(ctx, req); err != nil || len(res.Output) == 0 {
				b.Fatalf("perform: %v", err)
			}
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(ns, "ns/perform")
		b.ReportMetric(1e9/ns, "performs/s")
	})
}

// BenchmarkFetch is one activities page of 300 records turned into events.
func BenchmarkFetch(b *testing.B) {
	benchForms(b, func(b *testing.B, c pluginsdk.Connector) {
		f := c.(pluginsdk.Fetcher)
		req := &pluginsdk.FetchRequest{Entity: entityActivities, Cursor: encodeCursor("WQV2VQVPPCKHC6AQYVK7JDSA3J62DUSJ3EXJGDPTKPEBFW3SAVUA====")}
		ctx := context.Background()
		events := 0
		for b.Loop() {
			res, err := f.Fetch(ctx, req)
			if err != nil || len(res.Events) != 300 {
				b.Fatalf("fetch: %v", err)
			}
			events += len(res.Events)
		}
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	})
}
