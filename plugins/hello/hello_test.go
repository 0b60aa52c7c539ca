package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
)

const testConfig = `{
  "greeting": "Hello",
  "event_type": "track",
  "fields": {"event": "$.event", "email": "$.context.traits.email", "user_id": "$.userId",
             "revenue": "$.properties.revenue", "currency": "$.properties.currency", "order_id": "$.properties.order_id"},
  "webhook_url": "https://hooks.example.com/notify"
}`

const wantTrack = `{"currency":"EUR","email":"ada.lovelace@example.com","event":"Order Completed","order_id":"ORD-2024-000123","revenue":129.95,"user_id":"user-98765"}`

func trackEvent(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/track.json")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func post(body []byte) pluginsdk.HTTPRequest {
	return pluginsdk.HTTPRequest{Method: "POST", URL: "http://junction.test/hooks/test", Body: body,
		Header: map[string][]string{"Content-Type": {"application/json"}}}
}

// target is the acceptance Target of this connector, whatever its form.
func target(t *testing.T) plugintest.Target {
	track := trackEvent(t)
	page := []byte(`{"type":"page","name":"Home","messageId":"m-page"}`)
	batch := []byte("[" + string(track) + "," + string(page) + "," + string(track) + "]")
	wrongToken := post(track)
	wrongToken.Header[TokenHeader] = []string{"nope"}
	return plugintest.Target{
		Config: json.RawMessage(testConfig),
		Auth:   pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: "s3cret"},
		BadConfigs: []plugintest.BadConfig{
			{Config: json.RawMessage(`{}`), WantMissing: []string{"greeting"}},
			{Config: json.RawMessage(`{"greeting": "Hi", "fields": {"x": "no-dollar"}}`), WantMissing: []string{"fields"}},
		},
		Host: func(h *plugintest.Host) {
			h.AllowHosts("hooks.example.com")
			h.HandleHTTPFunc(func(_ context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
				if bytes.Contains(req.Body, []byte(`"fail"`)) {
					return &pluginsdk.HTTPResponse{Status: 503}, nil
				}
				return &pluginsdk.HTTPResponse{Status: 202}, nil
			})
		},
		Authorize: func(req *pluginsdk.HTTPRequest) {
			if req.Header == nil {
				req.Header = map[string][]string{}
			}
			if _, set := req.Header[TokenHeader]; !set {
				req.Header[TokenHeader] = []string{"s3cret"}
			}
		},
		Receive: []plugintest.ReceiveCase{
			{Name: "track event reshaped", Request: post(track), WantEvents: 1,
				Check: func(t *testing.T, _ *plugintest.Host, res *pluginsdk.ReceiveResult, _ error) {
					ev := res.Events[0]
					if string(ev.Payload) != wantTrack {
						t.Errorf("payload = %s\nwant      %s", ev.Payload, wantTrack)
					}
					if ev.Type != "track" || ev.DedupKey != "ajs-next-1700000000000-5f2c3a1e-9d8b-4c7a-b6e5-0a1b2c3d4e5f" {
						t.Errorf("type %q dedup %q", ev.Type, ev.DedupKey)
					}
					if want := time.Date(2024, 11, 25, 10, 15, 30, 123e6, time.UTC); !ev.Time.Equal(want) {
						t.Errorf("time = %v, want %v", ev.Time, want)
					}
					if !strings.Contains(string(res.Response.Body), `"accepted":1`) {
						t.Errorf("response body %s", res.Response.Body)
					}
				}},
			{Name: "batch filtered by type", Request: post(batch), WantEvents: 2,
				Check: func(t *testing.T, _ *plugintest.Host, res *pluginsdk.ReceiveResult, _ error) {
					if want := `{"accepted":2,"skipped":1,"rejected":0}`; string(res.Response.Body) != want {
						t.Errorf("response body %s, want %s", res.Response.Body, want)
					}
				}},
			{Name: "batch with a non-object", Request: post([]byte(`[1,` + string(track) + `]`)), WantEvents: 1,
				Check: func(t *testing.T, _ *plugintest.Host, res *pluginsdk.ReceiveResult, _ error) {
					if len(res.Rejected) != 1 || res.Rejected[0].Index != 0 {
						t.Errorf("rejected = %+v, want item 0", res.Rejected)
					}
				}},
			{Name: "malformed JSON", Request: post([]byte(`{"type": "track",`)), WantStatus: 400},
			{Name: "not an object", Request: post([]byte(`"hello"`)), WantStatus: 400},
			{Name: "wrong token", Request: wrongToken, WantStatus: 401},
		},
		Perform: []plugintest.PerformCase{
			{Name: "greet", Request: pluginsdk.PerformRequest{Action: "greet", Input: json.RawMessage(`{"name":"Ada"}`)},
				Check: func(t *testing.T, _ *plugintest.Host, res *pluginsdk.PerformResult, _ error) {
					if want := `{"message":"Hello, Ada!"}`; string(res.Output) != want {
						t.Errorf("output %s, want %s", res.Output, want)
					}
				}},
			{Name: "greet without name", Request: pluginsdk.PerformRequest{Action: "greet", Input: json.RawMessage(`{}`)}, WantError: true},
			{Name: "echo", Request: pluginsdk.PerformRequest{Action: "echo", Input: json.RawMessage(`{"a":[1,2]}`)},
				Check: func(t *testing.T, _ *plugintest.Host, res *pluginsdk.PerformResult, _ error) {
					if string(res.Output) != `{"a":[1,2]}` {
						t.Errorf("output %s", res.Output)
					}
				}},
			{Name: "notify", Request: pluginsdk.PerformRequest{Action: "notify", Input: json.RawMessage(`{"order":"o-1"}`), IdempotencyKey: "run1/notify"},
				Check: func(t *testing.T, h *plugintest.Host, res *pluginsdk.PerformResult, _ error) {
					reqs := h.Requests()
					if len(reqs) != 1 || reqs[0].URL != "https://hooks.example.com/notify" || string(reqs[0].Body) != `{"order":"o-1"}` {
						t.Fatalf("requests = %+v", reqs)
					}
					if reqs[0].HeaderValue("Idempotency-Key") != "run1/notify" {
						t.Errorf("idempotency key header = %q", reqs[0].HeaderValue("Idempotency-Key"))
					}
					if string(res.Output) != `{"status":202}` {
						t.Errorf("output %s", res.Output)
					}
				}},
			{Name: "notify 503 is retryable", Request: pluginsdk.PerformRequest{Action: "notify", Input: json.RawMessage(`{"fail":true}`)},
				WantError: true, WantRetryable: true},
			{Name: "count", Request: pluginsdk.PerformRequest{Action: "count", Input: json.RawMessage(`{"key":"k"}`)},
				Check: func(t *testing.T, h *plugintest.Host, res *pluginsdk.PerformResult, _ error) {
					if string(res.Output) != `{"count":1}` {
						t.Errorf("output %s", res.Output)
					}
					if keys := h.Keys(); len(keys) != 1 || keys[0] != "count/k" {
						t.Errorf("kv keys %v", keys)
					}
				}},
		},
	}
}

func TestAcceptanceNative(t *testing.T) {
	tg := target(t)
	native := plugintest.Native("native", func() pluginsdk.Connector { return &Hello{} })
	tg.Name, tg.New, tg.Native = native.Name, native.New, native.Native
	plugintest.Acceptance(t, tg)
}

func TestAcceptanceWasm(t *testing.T) {
	tg := target(t)
	tg.Name, tg.New = "wasm", hostrun.Wasm(t, ".")
	plugintest.Acceptance(t, tg)
}

// TestFormsAgree runs the same requests through both forms and compares the
// results byte for byte.
func TestFormsAgree(t *testing.T) {
	newWasm := hostrun.Wasm(t, ".")
	track := trackEvent(t)
	big := "[" + strings.Repeat(string(track)+",", 99) + string(track) + "]" // more elements than the guest's span buffer
	reqs := [][]byte{track, []byte("[" + string(track) + `,{"type":"identify"}]`), []byte(`{"type":"track"}`), []byte(`{bad`), []byte(big)}
	forms := map[string]pluginsdk.Connector{"native": &Hello{}, "wasm": newWasm(t)}
	results := map[string][]string{}
	for name, c := range forms {
		h := plugintest.NewHost(t)
		if err := c.Configure(context.Background(), h.Context(json.RawMessage(testConfig), pluginsdk.Auth{})); err != nil {
			t.Fatalf("%s: configure: %v", name, err)
		}
		for _, body := range reqs {
			req := post(body)
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
			t.Errorf("request %d:\nnative %s\nwasm   %s", i, results["native"][i], results["wasm"][i])
		}
	}
}
