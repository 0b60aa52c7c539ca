package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
)

// target is the acceptance Target of this connector, whatever its form.
func target(t *testing.T) plugintest.Target {
	batch := compact(t, "analytics-node-batch.json")
	return plugintest.Target{
		Config: goodConfig,
		Auth:   goodAuth,
		BadConfigs: []plugintest.BadConfig{
			{Config: json.RawMessage(`{"shared_secert": "x"}`), WantMissing: []string{"shared_secert"}},
			{Config: json.RawMessage(`{"dedup_window": "soon"}`), WantMissing: []string{"dedup_window"}},
		},
		// Garbage reaches the parser with the write key in the header.
		Authorize: func(req *pluginsdk.HTTPRequest) {
			if req.Header == nil {
				req.Header = map[string][]string{}
			}
			if _, set := req.Header["Authorization"]; !set {
				req.Header["Authorization"] = []string{basic(writeKey)}
			}
		},
		Receive: []plugintest.ReceiveCase{
			{Name: "SDK batch", Request: sdkPost("/v1/batch", batch), WantEvents: 2},
			{Name: "webhook fixture, signed", Request: webhookPost(fixture(t, "webhook-signed-body.json")), WantEvents: 1,
				Check: func(t *testing.T, _ *plugintest.Host, res *pluginsdk.ReceiveResult, _ error) {
					if res.Events[0].DedupKey != "ajs-f8ca1e4de5024d9430b3928bd8ac6b96" {
						t.Errorf("dedup key %q", res.Events[0].DedupKey)
					}
				}},
			{Name: "identify call", Request: sdkPost("/v1/identify", []byte(`{"userId":"u1","traits":{"email":"a@example.com"}}`)), WantEvents: 1},
			{Name: "bad signature", Request: withHeader(webhookPost([]byte(`{"type":"track"}`)), "X-Signature", strings.Repeat("0", 40)), WantStatus: 401},
			{Name: "wrong write key", Request: withHeader(sdkPost("/v1/batch", batch), "Authorization", basic("nope")), WantStatus: 401},
			{Name: "malformed JSON", Request: sdkPost("/v1/batch", []byte(`{"batch":[{"type":"track",`)), WantStatus: 400},
			{Name: "over 500 KB", Request: sdkPost("/v1/batch", []byte(`{"batch":["`+strings.Repeat("x", maxBatchBytes)+`"]}`)), WantStatus: 413},
		},
	}
}

func TestAcceptanceNative(t *testing.T) {
	tg := target(t)
	native := plugintest.Native("native", func() pluginsdk.Connector { return &Segment{} })
	tg.Name, tg.New, tg.Native = native.Name, native.New, native.Native
	plugintest.Acceptance(t, tg)
}

func TestAcceptanceWasm(t *testing.T) {
	tg := target(t)
	tg.Name, tg.New = "wasm", hostrun.Wasm(t, ".")
	plugintest.Acceptance(t, tg)
}

// TestFormsAgree runs the same requests through the native and the Wasm
// build and compares the outcomes byte for byte.
func TestFormsAgree(t *testing.T) {
	newWasm := hostrun.Wasm(t, ".")
	track := compact(t, "track-transaction-created.json")
	many := `{"batch":[` + strings.Repeat(string(track)+",", 99) + string(track) + `]}` // more than the guest's span buffer
	reqs := []pluginsdk.HTTPRequest{
		sdkPost("/v1/batch", compact(t, "analytics-node-batch.json")),
		sdkPost("/v1/batch", fixture(t, "tracking-api-batch.json")),
		sdkPost("/v1/batch", []byte(many)),
		sdkPost("/v1/batch", []byte(`{"batch":[{"type":"identify","userId":"u"},7,{"type":"x"}],"sentAt":"2026-01-01T00:00:00Z"}`)),
		sdkPost("/v1/track", []byte(`{"userId":"u","event":"E","writeKey":"`+writeKey+`","context":{"a":"<b>"}}`)),
		sdkPost("/v1/identify", []byte(`{"userId":"u"}`)),
		withHeader(sdkPost("/v1/b", []byte(`{"writeKey":"`+writeKey+`","batch":[{"writeKey":"`+writeKey+`","type":"page","anonymousId":"a"}, {"type":"track","writeKey":"x","event":"E","userId":"u"}]}`)), "Authorization", ""),
		webhookPost(fixture(t, "webhook-signed-body.json")),
		webhookPost([]byte("[" + string(track) + "," + string(track) + "]")),
		webhookPost([]byte(`{bad`)),
		withHeader(webhookPost(track), "X-Signature", "00"),
		{Method: "GET", Path: "/tag.js", Header: map[string][]string{"If-None-Match": {`"stale"`}}},
	}
	forms := map[string]pluginsdk.Connector{"native": &Segment{}, "wasm": newWasm(t)}
	results := map[string][]string{}
	for name, c := range forms {
		h := plugintest.NewHost(t)
		if err := c.Configure(context.Background(), h.Context(goodConfig, goodAuth)); err != nil {
			t.Fatalf("%s: configure: %v", name, err)
		}
		for _, req := range reqs {
			res, err := c.(pluginsdk.Receiver).Receive(context.Background(), &req)
			out, _ := json.Marshal(struct {
				Res *pluginsdk.ReceiveResult
				Err error
			}{res, err})
			results[name] = append(results[name], string(out))
		}
	}
	for i := range reqs {
		if results["native"][i] != results["wasm"][i] {
			t.Errorf("request %d:\nnative %.600s\nwasm   %.600s", i, results["native"][i], results["wasm"][i])
		}
	}
}
