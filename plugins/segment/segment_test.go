package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

// TestFixturesFromWebhooksDestination posts every single-message fixture
// the way the Webhooks destination does: each is one event, stored byte
// for byte, with its messageId as dedup key and its timestamp as time.
func TestFixturesFromWebhooksDestination(t *testing.T) {
	s := configured(t, goodConfig, goodAuth)
	tests := []struct {
		file, typ, messageID string
		at                   time.Time
	}{
		{"identify.json", "identify", "022bb90c-bbac-11e4-8dfc-aa07a5b093db", time.Date(2026, 3, 2, 10, 15, 1, 400e6, time.UTC)},
		{"track-transaction-created.json", "track", "ajs-f8ca1e4de5024d9430b3928bd8ac6b96", time.Date(2026, 3, 2, 10, 17, 43, 950e6, time.UTC)},
		{"track-other-event.json", "track", "ajs-0b1a9d3c3e2f4a1b8c7d6e5f4a3b2c1d", time.Date(2026, 3, 2, 10, 17, 43, 950e6, time.UTC)},
		{"page.json", "page", "ajs-page-7f3e", time.Date(2026, 3, 2, 10, 16, 0, 0, time.UTC)},
		{"screen.json", "screen", "ios-screen-33cc", time.Date(2026, 3, 2, 10, 20, 0, 0, time.UTC)},
		{"group.json", "group", "ajs-group-11aa", time.Date(2026, 3, 2, 10, 18, 0, 0, time.UTC)},
		{"alias.json", "alias", "ajs-alias-22bb", time.Date(2026, 3, 2, 10, 19, 0, 0, time.UTC)},
		{"webhook-signed-body.json", "track", "ajs-f8ca1e4de5024d9430b3928bd8ac6b96", time.Date(2026, 3, 2, 10, 17, 43, 950e6, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := fixture(t, tt.file)
			req := webhookPost(body)
			res, err := s.Receive(context.Background(), &req)
			if err != nil {
				t.Fatalf("Receive: %v", err)
			}
			if res.Response.Status != 200 || string(res.Response.Body) != `{"success":true}` {
				t.Errorf("response %d %s", res.Response.Status, res.Response.Body)
			}
			if len(res.Events) != 1 {
				t.Fatalf("%d events, want 1", len(res.Events))
			}
			ev := res.Events[0]
			if string(ev.Payload) != strings.TrimSpace(string(body)) {
				t.Errorf("payload changed:\n%s", ev.Payload)
			}
			if ev.Type != tt.typ || ev.DedupKey != tt.messageID || !ev.Time.Equal(tt.at) {
				t.Errorf("type %q dedup %q time %v; want %q %q %v", ev.Type, ev.DedupKey, ev.Time, tt.typ, tt.messageID, tt.at)
			}
		})
	}
}

// The signed fixture's X-Signature, exactly as recorded from Segment.
func TestRecordedSignature(t *testing.T) {
	s := configured(t, goodConfig, pluginsdk.Auth{})
	body := fixture(t, "webhook-signed-body.json")
	for _, sig := range []string{"59181fe3825f976363ade442567f0bcb4a900dd4", "59181FE3825F976363ADE442567F0BCB4A900DD4"} {
		req := withHeader(webhookPost(body), "X-Signature", sig)
		if res, err := s.Receive(context.Background(), &req); err != nil || len(res.Events) != 1 {
			t.Errorf("signature %s: %v", sig, err)
		}
	}
}

func TestTrackingAPIBatch(t *testing.T) {
	s := configured(t, goodConfig, goodAuth)
	body := compact(t, "analytics-node-batch.json")
	req := sdkPost("/v1/batch", body)
	res, err := s.Receive(context.Background(), &req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 2 || res.Response.Status != 200 {
		t.Fatalf("%d events, status %d %s", len(res.Events), res.Response.Status, res.Response.Body)
	}
	id, tr := decode(t, res.Events[0].Payload), decode(t, res.Events[1].Payload)
	// The batch's sentAt is copied into each message, as Segment does.
	if id["sentAt"] != "2026-03-02T10:15:02.350Z" || tr["sentAt"] != "2026-03-02T10:15:02.350Z" {
		t.Errorf("sentAt %v %v", id["sentAt"], tr["sentAt"])
	}
	if id["traits"].(map[string]any)["email"] != "marco.bianchi@example.com" || id["context"].(map[string]any)["library"].(map[string]any)["name"] != "@segment/analytics-node" {
		t.Errorf("identify payload %s", res.Events[0].Payload)
	}
	if tr["properties"].(map[string]any)["revenue"] != 42.5 || tr["event"] != "Transaction Created" {
		t.Errorf("track payload %s", res.Events[1].Payload)
	}
	if res.Events[0].DedupKey != "node-next-1772446501400-3f1c0a52-7d2e-4b8e-9a11-5c0e7b2d9f01" || res.Events[1].Type != "track" {
		t.Errorf("events %+v", res.Events)
	}
}

func TestFixtureBatchWithWriteKeyInBody(t *testing.T) {
	s := configured(t, goodConfig, goodAuth)
	req := withHeader(sdkPost("/v1/batch", fixture(t, "tracking-api-batch.json")), "Authorization", "")
	res, err := s.Receive(context.Background(), &req)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"identify", "track", "page"}
	if len(res.Events) != len(want) {
		t.Fatalf("%d events", len(res.Events))
	}
	for i, ev := range res.Events {
		m := decode(t, ev.Payload)
		if ev.Type != want[i] || m["type"] != want[i] {
			t.Errorf("event %d: type %q", i, ev.Type)
		}
		if _, has := m["writeKey"]; has {
			t.Errorf("event %d kept the write key", i)
		}
	}
	// Messages that carry their own sentAt keep it.
	if m := decode(t, res.Events[1].Payload); m["sentAt"] != "2026-03-02T10:17:43.990Z" {
		t.Errorf("sentAt = %v", m["sentAt"])
	}
}

// TestSingleCalls: /v1/<type> sets type when the message has none, and a
// writeKey in the body authenticates the call but is not stored.
func TestSingleCalls(t *testing.T) {
	s := configured(t, goodConfig, goodAuth)
	for _, typ := range callTypes {
		t.Run(typ, func(t *testing.T) {
			body := fmt.Sprintf(`{"userId":"u1","event":"E","messageId":"m-%s","writeKey":%q,"timestamp":"2026-03-02T10:00:00Z"}`, typ, writeKey)
			req := withHeader(sdkPost("/v1/"+typ, []byte(body)), "Authorization", "")
			res, err := s.Receive(context.Background(), &req)
			if err != nil {
				t.Fatal(err)
			}
			m := decode(t, res.Events[0].Payload)
			if m["type"] != typ || res.Events[0].Type != typ || res.Events[0].DedupKey != "m-"+typ {
				t.Errorf("payload %s, event %+v", res.Events[0].Payload, res.Events[0])
			}
			if _, has := m["writeKey"]; has {
				t.Errorf("the write key was stored: %s", res.Events[0].Payload)
			}
		})
	}
	// Without a writeKey in the body, the message is kept byte for byte
	// after the added type.
	req := sdkPost("/v1/identify", []byte(` {"userId":"u1", "traits":{"email":"a@b.c"}} `))
	res, err := s.Receive(context.Background(), &req)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Events[0].Payload); got != `{"type":"identify","userId":"u1", "traits":{"email":"a@b.c"}}` {
		t.Errorf("payload %s", got)
	}
}

// TestBrowserSDK: analytics.js posts each call to /v1/<first letter> (or
// batches to /v1/b) as text/plain, with the write key in the body and no
// Authorization header, from another origin.
func TestBrowserSDK(t *testing.T) {
	s := configured(t, goodConfig, goodAuth)
	browser := func(path, body string) pluginsdk.HTTPRequest {
		return pluginsdk.HTTPRequest{Method: "POST", Path: path, Body: []byte(body), Header: map[string][]string{
			"Content-Type": {"text/plain"}, "Origin": {"https://shop.example.com"}}}
	}
	track := `{"timestamp":"2026-03-02T10:16:00.000Z","integrations":{},"type":"track","event":"Checkout Started","properties":{"value":12},` +
		`"context":{"library":{"name":"analytics.js","version":"next-1.70.0"}},"messageId":"ajs-next-1772446560000-a1","anonymousId":"anon-1",` +
		`"writeKey":"` + writeKey + `","userId":null,"sentAt":"2026-03-02T10:16:00.010Z","_metadata":{"bundled":["Segment.io"],"unbundled":[]}}`
	tests := []struct {
		name, path, body string
		events           int
	}{
		{"track", "/v1/t", track, 1},
		{"identify", "/v1/i", `{"type":"identify","anonymousId":"anon-1","traits":{"email":"x@example.com"},"writeKey":"` + writeKey + `"}`, 1},
		{"batching strategy", "/v1/b", `{"writeKey":"` + writeKey + `","batch":[` + track + `,` + track + `],"sentAt":"2026-03-02T10:16:01.000Z"}`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := browser(tt.path, tt.body)
			res, err := s.Receive(context.Background(), &req)
			if err != nil {
				t.Fatal(err)
			}
			// CORS is the host's (spec.cors): the connector grants nothing.
			if len(res.Events) != tt.events || len(res.Response.Header["Access-Control-Allow-Origin"]) != 0 {
				t.Fatalf("%d events, header %v", len(res.Events), res.Response.Header)
			}
			for _, ev := range res.Events {
				if strings.Contains(string(ev.Payload), writeKey) || !json.Valid(ev.Payload) {
					t.Errorf("payload %s", ev.Payload)
				}
			}
		})
	}
	// The message is kept byte for byte, but for the write key.
	req := browser("/v1/t", track)
	res, _ := s.Receive(context.Background(), &req)
	if want := strings.Replace(track, `"writeKey":"`+writeKey+`",`, "", 1); string(res.Events[0].Payload) != want {
		t.Errorf("payload\n%s\nwant\n%s", res.Events[0].Payload, want)
	}
	req = browser("/v1/t", "")
	req.Method = "OPTIONS"
	// The host answers preflights; one reaching the connector is not a
	// Tracking API call.
	if _, err := s.Receive(context.Background(), &req); statusOf(nil, err) != 405 {
		t.Errorf("OPTIONS: %v, want 405", err)
	}
	req = browser("/v1/t", strings.Replace(track, writeKey, "other", 1))
	if _, err := s.Receive(context.Background(), &req); statusOf(nil, err) != 401 {
		t.Errorf("a wrong writeKey in the body: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	s := configured(t, goodConfig, goodAuth)
	track := compact(t, "track-transaction-created.json")
	big := `{"type":"track","event":"E","userId":"u","properties":{"pad":"` + strings.Repeat("x", maxMessageBytes) + `"}}`
	huge := `{"batch":[` + strings.Repeat(`{"type":"track","event":"E","userId":"u","properties":{"pad":"`+strings.Repeat("x", 1000)+`"}},`, 520) + `{}]}`
	tests := []struct {
		name   string
		req    pluginsdk.HTTPRequest
		status int
		says   string
	}{
		{"bad signature", withHeader(webhookPost(track), "X-Signature", sign("other-secret", track)), 401, "X-Signature does not match"},
		{"signature not hex", withHeader(webhookPost(track), "X-Signature", "sha1=zz"), 401, "X-Signature"},
		{"wrong write key", withHeader(sdkPost("/v1/batch", compact(t, "analytics-node-batch.json")), "Authorization", basic("nope")), 401, "write key"},
		{"bearer instead of basic", withHeader(sdkPost("/v1/batch", compact(t, "analytics-node-batch.json")), "Authorization", "Bearer "+writeKey), 401, "Basic"},
		{"wrong writeKey in body", withHeader(sdkPost("/v1/track", []byte(`{"userId":"u","event":"E","writeKey":"nope"}`)), "Authorization", ""), 401, "writeKey in the body"},
		{"no credentials", withHeader(sdkPost("/v1/track", []byte(`{"userId":"u","event":"E"}`)), "Authorization", ""), 401, "no credentials"},
		{"garbage without credentials", withHeader(sdkPost("/v1/track", []byte(`{"userId":`)), "Authorization", ""), 401, "no credentials"},
		{"malformed JSON", sdkPost("/v1/track", []byte(`{"userId":"u","event":"E",}`)), 400, "malformed request"},
		{"not an object", sdkPost("/v1/track", []byte(`"track"`)), 400, "JSON object"},
		{"array to /v1/track", sdkPost("/v1/track", []byte(`[{"userId":"u","event":"E"}]`)), 400, "JSON object"},
		{"empty body", sdkPost("/v1/track", nil), 400, "empty"},
		{"batch without batch", sdkPost("/v1/batch", []byte(`{"userId":"u","type":"track","event":"E"}`)), 400, `no "batch" array`},
		{"batch not an array", sdkPost("/v1/batch", []byte(`{"batch":{"type":"track"}}`)), 400, "array"},
		{"empty batch", sdkPost("/v1/batch", []byte(`{"batch":[]}`)), 400, "no messages"},
		{"type mismatch", sdkPost("/v1/track", []byte(`{"type":"identify","userId":"u"}`)), 400, "does not match the endpoint"},
		{"unknown type", webhookPost([]byte(`{"type":"purchase","userId":"u"}`)), 400, "unknown type"},
		{"no type", webhookPost([]byte(`{"userId":"u"}`)), 400, "no type"},
		{"no identity", sdkPost("/v1/identify", []byte(`{"traits":{"email":"a@b.c"},"userId":""}`)), 400, "userId or anonymousId"},
		{"track without event", sdkPost("/v1/track", []byte(`{"userId":"u"}`)), 400, "event name"},
		{"message over 32 KB", sdkPost("/v1/track", []byte(big)), 400, "32 KB"},
		{"batch over 500 KB", sdkPost("/v1/batch", []byte(huge)), 413, "500 KB"},
		{"unknown endpoint", sdkPost("/v2/track", track), 404, "/v1/batch"},
		{"GET", func() pluginsdk.HTTPRequest { r := sdkPost("/v1/batch", nil); r.Method = "GET"; return r }(), 405, "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			res, err := s.Receive(context.Background(), &req)
			if got := statusOf(res, err); got != tt.status {
				t.Fatalf("status %d (%v), want %d", got, err, tt.status)
			}
			if err == nil {
				t.Fatalf("want an error, got a result %s", res.Response.Body)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
		})
	}
}

// TestPartialBatch: the good messages are stored; the bad are listed by
// index in Rejected and in the 400 answer.
func TestPartialBatch(t *testing.T) {
	s := configured(t, goodConfig, goodAuth)
	pad := strings.Repeat("x", maxMessageBytes)
	body := `{"batch":[
		{"type":"identify","userId":"u1","messageId":"ok-0"},
		5,
		{"userId":"u1"},
		{"type":"track","userId":"u1","event":"E","properties":{"pad":"` + pad + `"}},
		{"type":"track","userId":"u1","event":""},
		{"type":"page","anonymousId":"a1","messageId":"ok-5"}
	],"sentAt":"2026-03-02T10:00:00Z"}`
	req := sdkPost("/v1/batch", []byte(body))
	res, err := s.Receive(context.Background(), &req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 2 || res.Events[0].DedupKey != "ok-0" || res.Events[1].DedupKey != "ok-5" {
		t.Fatalf("events %+v", res.Events)
	}
	wantIdx := []int{1, 2, 3, 4}
	if len(res.Rejected) != len(wantIdx) {
		t.Fatalf("rejected %+v", res.Rejected)
	}
	for i, r := range res.Rejected {
		if r.Index != wantIdx[i] || r.Message == "" {
			t.Errorf("rejected[%d] = %+v, want index %d", i, r, wantIdx[i])
		}
	}
	if res.Response.Status != 400 {
		t.Errorf("status %d", res.Response.Status)
	}
	var answer struct {
		Success  bool                  `json:"success"`
		Accepted int                   `json:"accepted"`
		Rejected []pluginsdk.ItemError `json:"rejected"`
		Error    struct{ Code, Message string }
	}
	if err := json.Unmarshal(res.Response.Body, &answer); err != nil {
		t.Fatalf("answer %s: %v", res.Response.Body, err)
	}
	if answer.Success || answer.Accepted != 2 || len(answer.Rejected) != 4 || answer.Rejected[2].Index != 3 ||
		!strings.Contains(answer.Rejected[2].Message, "32 KB") || answer.Error.Code != "invalid_messages" {
		t.Errorf("answer %s", res.Response.Body)
	}
}

// TestCredentialModes: which credential a connection asks for.
func TestCredentialModes(t *testing.T) {
	track := compact(t, "track-transaction-created.json")
	unsigned := withHeader(webhookPost(track), "X-Signature", "")
	tests := []struct {
		name   string
		config json.RawMessage
		auth   pluginsdk.Auth
		req    pluginsdk.HTTPRequest
		status int
	}{
		{"open connection takes anything", nil, pluginsdk.Auth{}, unsigned, 200},
		{"secret only: unsigned refused", goodConfig, pluginsdk.Auth{}, unsigned, 401},
		{"secret only: signed accepted", goodConfig, pluginsdk.Auth{}, webhookPost(track), 200},
		{"secret only: basic auth is not a signature", goodConfig, pluginsdk.Auth{}, withHeader(unsigned, "Authorization", basic(writeKey)), 401},
		{"write key only: signature ignored, key needed", nil, goodAuth, webhookPost(track), 401},
		{"write key only: key without colon", nil, goodAuth, withHeader(unsigned, "Authorization", "Basic "+b64(writeKey)), 200},
		{"both: the write key also opens the hook URL", goodConfig, goodAuth, withHeader(unsigned, "Authorization", basic(writeKey)), 200},
		{"both: a bad signature is not rescued by the key", goodConfig, goodAuth, withHeader(withHeader(webhookPost(track), "X-Signature", sign("x", track)), "Authorization", basic(writeKey)), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := configured(t, tt.config, tt.auth)
			req := tt.req
			res, err := s.Receive(context.Background(), &req)
			if got := statusOf(res, err); got != tt.status {
				t.Errorf("status %d (%v), want %d", got, err, tt.status)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		name   string
		config string
		auth   pluginsdk.Auth
		says   string // "" = succeeds
	}{
		{"full", `{"shared_secret":"s","dedup_window":"24h","pool_size":2}`, goodAuth, ""},
		{"nothing", ``, pluginsdk.Auth{}, ""},
		{"typo", `{"sharedsecret":"s"}`, goodAuth, "sharedsecret"},
		{"bad window", `{"dedup_window":"a day"}`, goodAuth, "dedup_window"},
		{"negative window", `{"dedup_window":"-1h"}`, goodAuth, "dedup_window"},
		{"empty write key", `{}`, pluginsdk.Auth{Type: pluginsdk.AuthAPIKey}, "write key"},
		{"basic auth", `{}`, pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: "u", Password: "p"}, "basic"},
		{"not an object", `[1]`, goodAuth, "config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (&Segment{}).Configure(context.Background(), plugintest.NewHost(t).Context(json.RawMessage(tt.config), tt.auth))
			switch {
			case tt.says == "" && err != nil:
				t.Errorf("Configure: %v", err)
			case tt.says != "" && (err == nil || !strings.Contains(err.Error(), tt.says)):
				t.Errorf("Configure error %v, want one naming %q", err, tt.says)
			}
		})
	}
}
