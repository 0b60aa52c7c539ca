package main

import (
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

const (
	testSecret = "whsec-test"
	testConfig = `{"api_url": "https://help.example.com/api/v2", "signing_secret": "` + testSecret + `", "timeout": "5s"}`
)

var testAuth = pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: "tok-test"}

// helpDesk answers like the help desk's API; a ticket id names the failure
// to answer with, so every form is tested against the same host.
func helpDesk(_ context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
	switch {
	case strings.Contains(req.URL, "/tickets/T-503/"):
		return &pluginsdk.HTTPResponse{Status: 503, Header: map[string][]string{"Retry-After": {"30"}}}, nil
	case strings.Contains(req.URL, "/tickets/T-429/"):
		return &pluginsdk.HTTPResponse{Status: 429, Header: map[string][]string{"Retry-After": {"2"}}}, nil
	case strings.Contains(req.URL, "/tickets/T-404/"):
		return &pluginsdk.HTTPResponse{Status: 404, Body: []byte(`{"error":"no such ticket"}`)}, nil
	}
	return &pluginsdk.HTTPResponse{Status: 201, Body: []byte(`{"id":"N-7"}`)}, nil
}

// signed is a webhook delivery carrying a valid signature.
func signed(body []byte) pluginsdk.HTTPRequest {
	return pluginsdk.HTTPRequest{Method: "POST", Body: body, Header: map[string][]string{
		"Content-Type": {"application/json"}, SignatureHeader: {Sign([]byte(testSecret), body)},
	}}
}

func addNote(key, input string) pluginsdk.PerformRequest {
	return pluginsdk.PerformRequest{Action: "add_note", Input: json.RawMessage(input), IdempotencyKey: key, Attempt: 1}
}

// target is the acceptance Target of the connector, whatever its form.
func target(t *testing.T) plugintest.Target {
	delivery, err := os.ReadFile("testdata/ticket-created.json")
	if err != nil {
		t.Fatal(err)
	}
	forged := signed([]byte(`{"id":"evt_1","type":"ticket.created"}`))
	forged.Header[SignatureHeader] = []string{"sha256=" + strings.Repeat("0", 64)}
	return plugintest.Target{
		Config: json.RawMessage(testConfig),
		Auth:   testAuth,
		// Each config must fail at Configure with an error naming each key.
		BadConfigs: []plugintest.BadConfig{
			{Config: json.RawMessage(`{}`), WantMissing: []string{"api_url", "signing_secret"}},
			{Config: json.RawMessage(`{"api_url": "ftp://x", "signing_secret": "s"}`), WantMissing: []string{"api_url"}},
			{Config: json.RawMessage(`{"api_url": "https://x", "signing_secret": "s", "timeout": "soon"}`), WantMissing: []string{"timeout"}},
		},
		// The suite's own requests (garbage bodies, cancelled contexts)
		// must reach the parser, so they are signed as the help desk would.
		Authorize: func(req *pluginsdk.HTTPRequest) {
			if req.HeaderValue(SignatureHeader) == "" {
				if req.Header == nil {
					req.Header = map[string][]string{}
				}
				req.Header[SignatureHeader] = []string{Sign([]byte(testSecret), req.Body)}
			}
		},
		Host: func(h *plugintest.Host) {
			h.AllowHosts("help.example.com")
			h.HandleHTTPFunc(helpDesk)
		},
		Receive: []plugintest.ReceiveCase{
			{Name: "signed delivery", Request: signed(delivery), WantEvents: 1,
				Check: func(t *testing.T, _ *plugintest.Host, res *pluginsdk.ReceiveResult, _ error) {
					if ev := res.Events[0]; ev.DedupKey != "evt_01HX3K9" || ev.Type != "ticket.created" {
						t.Errorf("event dedup key %q, type %q", ev.DedupKey, ev.Type)
					}
				}},
			{Name: "forged signature", Request: forged, WantStatus: 401},
			{Name: "no id", Request: signed([]byte(`{"type":"ticket.created"}`)), WantStatus: 400},
			{Name: "malformed JSON", Request: signed([]byte(`{"id":`)), WantStatus: 400},
		},
		Perform: []plugintest.PerformCase{
			{Name: "add a note", Request: addNote("run-1/note", `{"ticket_id": "T-1042", "body": "Seen", "public": true}`),
				Check: func(t *testing.T, h *plugintest.Host, res *pluginsdk.PerformResult, err error) {
					reqs := h.Requests()
					if err != nil || len(reqs) != 1 {
						t.Fatalf("err %v, %d requests, want 1", err, len(reqs))
					}
					r := reqs[0]
					if r.Method != "POST" || r.URL != "https://help.example.com/api/v2/tickets/T-1042/notes" || r.Timeout != 5*time.Second {
						t.Errorf("request %s %s timeout %s", r.Method, r.URL, r.Timeout)
					}
					if r.HeaderValue("Authorization") != "Bearer tok-test" || r.HeaderValue("Idempotency-Key") != "run-1/note" {
						t.Errorf("headers %v", r.Header)
					}
					if string(r.Body) != `{"body":"Seen","public":true}` {
						t.Errorf("posted %s", r.Body)
					}
					if string(res.Output) != `{"note_id":"N-7","ticket_id":"T-1042"}` {
						t.Errorf("output %s", res.Output)
					}
				}},
			{Name: "the same task again posts nothing", Request: addNote("run-1/note", `{"ticket_id": "T-1042", "body": "Seen"}`),
				Check: func(t *testing.T, h *plugintest.Host, res *pluginsdk.PerformResult, err error) {
					if n := len(h.Requests()); err != nil || n != 1 {
						t.Errorf("err %v, %d requests, want still 1", err, n)
					}
					if res == nil || string(res.Output) != `{"note_id":"N-7","ticket_id":"T-1042"}` {
						t.Errorf("result %+v, want the first note", res)
					}
				}},
			{Name: "5xx is retryable", Request: addNote("run-2/note", `{"ticket_id": "T-503", "body": "x"}`),
				WantError: true, WantRetryable: true, Check: wantCode("http_503", 30*time.Second)},
			{Name: "429 is retryable", Request: addNote("run-3/note", `{"ticket_id": "T-429", "body": "x"}`),
				WantError: true, WantRetryable: true, Check: wantCode("http_429", 2*time.Second)},
			{Name: "404 is permanent", Request: addNote("run-4/note", `{"ticket_id": "T-404", "body": "x"}`),
				WantError: true, Check: wantCode("http_404", 0)},
			{Name: "no ticket_id", Request: addNote("run-5/note", `{"body": "x"}`),
				WantError: true, Check: wantCode("invalid_input", 0)},
		},
	}
}

func wantCode(code string, retryAfter time.Duration) func(*testing.T, *plugintest.Host, *pluginsdk.PerformResult, error) {
	return func(t *testing.T, _ *plugintest.Host, _ *pluginsdk.PerformResult, err error) {
		if pe := pluginsdk.AsError(err); pe == nil || pe.Code != code || pe.RetryAfter != retryAfter {
			t.Errorf("err = %+v, want code %s, retry after %s", pe, code, retryAfter)
		}
	}
}

// TestAcceptance runs the suite on the three forms of the same source:
// native, a go-plugin process and a Wasm module, each under the fake host.
func TestAcceptance(t *testing.T) {
	tg := target(t)
	tg.Name, tg.New, tg.Native = "native", func(*testing.T) pluginsdk.Connector { return &Ticketing{} }, true
	plugintest.Acceptance(t, tg)

	tg.Name, tg.New, tg.Native = "goplugin", hostrun.GoPlugin(t, "."), false
	plugintest.Acceptance(t, tg)

	tg.Name, tg.New = "wasm", hostrun.Wasm(t, ".")
	plugintest.Acceptance(t, tg)
}
