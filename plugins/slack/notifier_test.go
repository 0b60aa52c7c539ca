package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
)

var update = flag.Bool("update", false, "rewrite golden files")

const testConfig = `{"url": "https://hooks.example.com/services/T0/B0/x", "username": "Junction", "icon_emoji": ":bell:", "channel": "#general", "timeout": "5s"}`

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b)
}

// webhook answers like Slack, or with the status a message's text asks for
// ("status 503", "status 429"...), so every form is tested with the same
// host.
func webhook(_ context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
	var m message
	if err := json.Unmarshal(req.Body, &m); err != nil {
		return &pluginsdk.HTTPResponse{Status: 400, Body: []byte("invalid_payload")}, nil
	}
	switch {
	case strings.Contains(m.Text, "status 503"):
		return &pluginsdk.HTTPResponse{Status: 503, Header: map[string][]string{"Retry-After": {"30"}}, Body: []byte("service unavailable")}, nil
	case strings.Contains(m.Text, "status 429"):
		return &pluginsdk.HTTPResponse{Status: 429, Header: map[string][]string{"Retry-After": {"2"}}, Body: []byte("rate limited")}, nil
	case strings.Contains(m.Text, "status 404"):
		return &pluginsdk.HTTPResponse{Status: 404, Body: []byte("no_team")}, nil
	}
	return &pluginsdk.HTTPResponse{Status: 200, Body: []byte("ok")}, nil
}

func notifyReq(input string) pluginsdk.PerformRequest {
	return pluginsdk.PerformRequest{Action: "notify", Input: json.RawMessage(input), IdempotencyKey: "run-7/notify", Attempt: 1}
}

// target is the acceptance Target of this connector, whatever its form.
func target(t *testing.T) plugintest.Target {
	order := readFile(t, "testdata/order.json")
	return plugintest.Target{
		Config: json.RawMessage(testConfig),
		Auth:   pluginsdk.Auth{Type: pluginsdk.AuthNone},
		BadConfigs: []plugintest.BadConfig{
			{Config: json.RawMessage(`{}`), WantMissing: []string{"url"}},
			{Config: json.RawMessage(`{"url": "ftp://files.example.com/x"}`), WantMissing: []string{"url"}},
			{Config: json.RawMessage(`{"url": "https://hooks.example.com/x", "timeout": "soon"}`), WantMissing: []string{"timeout"}},
		},
		Host: func(h *plugintest.Host) {
			h.AllowHosts("hooks.example.com")
			h.HandleHTTPFunc(webhook)
		},
		Perform: []plugintest.PerformCase{
			{Name: "order message", Request: notifyReq(string(order)),
				Check: func(t *testing.T, h *plugintest.Host, res *pluginsdk.PerformResult, err error) {
					if err != nil {
						return
					}
					reqs := h.Requests()
					if len(reqs) != 1 {
						t.Fatalf("%d requests, want 1", len(reqs))
					}
					r := reqs[0]
					if r.Method != "POST" || r.URL != "https://hooks.example.com/services/T0/B0/x" || r.Timeout != 5*time.Second {
						t.Errorf("request %s %s timeout %s", r.Method, r.URL, r.Timeout)
					}
					if r.HeaderValue("Idempotency-Key") != "run-7/notify" || r.HeaderValue("Content-Type") != "application/json" {
						t.Errorf("headers %v", r.Header)
					}
					if *update {
						if err := os.WriteFile("testdata/order.golden.json", append(r.Body, '\n'), 0o644); err != nil {
							t.Fatal(err)
						}
					}
					if want := readFile(t, "testdata/order.golden.json"); !bytes.Equal(r.Body, want) {
						t.Errorf("posted %s\nwant   %s", r.Body, want)
					}
					if string(res.Output) != `{"response":"ok","status":200}` {
						t.Errorf("output = %s", res.Output)
					}
				}},
			{Name: "5xx is retryable", Request: notifyReq(`{"text": "status 503"}`), WantError: true, WantRetryable: true,
				Check: wantCode("http_503", 30*time.Second)},
			{Name: "429 is retryable after Retry-After", Request: notifyReq(`{"text": "status 429"}`), WantError: true, WantRetryable: true,
				Check: wantCode("rate_limited", 2*time.Second)},
			{Name: "404 is permanent", Request: notifyReq(`{"text": "status 404"}`), WantError: true,
				Check: wantCode("http_404", 0)},
			{Name: "missing text", Request: notifyReq(`{"channel": "#x"}`), WantError: true,
				Check: wantCode("invalid_input", 0)},
		},
	}
}

func wantCode(code string, retryAfter time.Duration) func(*testing.T, *plugintest.Host, *pluginsdk.PerformResult, error) {
	return func(t *testing.T, _ *plugintest.Host, _ *pluginsdk.PerformResult, err error) {
		pe := pluginsdk.AsError(err)
		if pe == nil || pe.Code != code || pe.RetryAfter != retryAfter {
			t.Errorf("err = %+v, want code %s retry after %s", pe, code, retryAfter)
		}
	}
}

func TestAcceptance(t *testing.T) {
	tg := target(t)
	tg.Name, tg.New, tg.Native = "native", func(*testing.T) pluginsdk.Connector { return New() }, true
	plugintest.Acceptance(t, tg)

	tg.Name, tg.New, tg.Native = "goplugin", hostrun.GoPlugin(t, "."), false
	plugintest.Acceptance(t, tg)

	if testing.Short() {
		t.Skip("Wasm build skipped in -short mode")
	}
	tg.Name, tg.New, tg.Native = "wasm", hostrun.Wasm(t, "."), false
	plugintest.Acceptance(t, tg)
}

// A host that refuses the webhook's host (the connection's allow-list) gets
// its permanent error back unchanged, not a retryable network failure.
func TestHostRefusalIsPermanent(t *testing.T) {
	h := plugintest.NewHost(t)
	h.AllowHosts("elsewhere.example.com")
	h.HandleHTTPFunc(webhook)
	n := New()
	if err := n.Configure(context.Background(), h.Context(json.RawMessage(testConfig), pluginsdk.Auth{})); err != nil {
		t.Fatal(err)
	}
	_, err := n.(pluginsdk.Performer).Perform(context.Background(), &pluginsdk.PerformRequest{Action: "notify", Input: json.RawMessage(`{"text":"hi"}`)})
	if err == nil || pluginsdk.IsRetryable(err) {
		t.Fatalf("err = %v, want the host's permanent refusal", err)
	}
}

func TestAPIKeyIsSentAsBearer(t *testing.T) {
	h := plugintest.NewHost(t)
	h.HandleHTTPFunc(webhook)
	n := New()
	if err := n.Configure(context.Background(), h.Context(json.RawMessage(testConfig), pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: "tok"})); err != nil {
		t.Fatal(err)
	}
	if _, err := n.(pluginsdk.Performer).Perform(context.Background(), &pluginsdk.PerformRequest{Action: "notify", Input: json.RawMessage(`{"text":"hi"}`)}); err != nil {
		t.Fatal(err)
	}
	if got := h.Requests()[0].HeaderValue("Authorization"); got != "Bearer tok" {
		t.Errorf("Authorization = %q", got)
	}
	err := New().Configure(context.Background(), h.Context(json.RawMessage(testConfig), pluginsdk.Auth{Type: pluginsdk.AuthAPIKey}))
	if err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("api_key without a secret: err = %v", err)
	}
}
