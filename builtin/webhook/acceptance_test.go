package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

func TestAcceptance(t *testing.T) {
	tg := plugintest.Native("webhook", New)
	tg.Config = json.RawMessage(`{"url":"https://crm.example.com/hooks/junction","signing_secret":"crm-secret","timeout":"2s","dedup_path":"id"}`)
	tg.Auth = pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: testKey}
	tg.BadConfigs = []plugintest.BadConfig{
		{Config: json.RawMessage(`{"url":"ftp://crm.example.com/"}`), WantMissing: []string{"url"}},
		{Config: json.RawMessage(`{"timeout":"soon","method":"GET"}`), WantMissing: []string{"timeout", "method"}},
		{Config: json.RawMessage(`{"signing_secrets":"x"}`), WantMissing: []string{"signing_secrets"}},
	}
	tg.Host = func(h *plugintest.Host) {
		h.AllowHosts("crm.example.com")
		h.HandleHTTPFunc(func(_ context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
			switch {
			case strings.Contains(string(req.Body), `"fail":"busy"`):
				return &pluginsdk.HTTPResponse{Status: 503, Header: map[string][]string{"Retry-After": {"30"}}}, nil
			case strings.Contains(string(req.Body), `"fail":"invalid"`):
				return &pluginsdk.HTTPResponse{Status: 422, Body: []byte(`{"error":"order is required"}`)}, nil
			}
			return &pluginsdk.HTTPResponse{Status: 201, Body: []byte(`{"id":"crm-1"}`)}, nil
		})
	}
	tg.Authorize = func(req *pluginsdk.HTTPRequest) {
		if req.Header == nil {
			req.Header = map[string][]string{}
		}
		if _, set := req.Header["X-Api-Key"]; !set { // a case may bring its own (wrong) key
			req.Header["X-Api-Key"] = []string{testKey}
		}
	}
	jsonHeader := map[string][]string{"Content-Type": {"application/json"}}
	tg.Receive = []plugintest.ReceiveCase{
		{Name: "object", Request: pluginsdk.HTTPRequest{Method: "POST", Header: jsonHeader, Body: []byte(`{"id":"A-1","total":3}`)},
			WantStatus: 202, WantEvents: 1, Check: func(t *testing.T, _ *plugintest.Host, res *pluginsdk.ReceiveResult, _ error) {
				if res.Events[0].DedupKey != "A-1" || string(res.Response.Body) != `{"accepted":1}` {
					t.Errorf("event %+v, response %s", res.Events[0], res.Response.Body)
				}
			}},
		{Name: "array", Request: pluginsdk.HTTPRequest{Method: "POST", Header: jsonHeader, Body: []byte(`[{"id":"A-1"},{"id":"A-2"}]`)},
			WantStatus: 202, WantEvents: 2},
		{Name: "bad JSON", Request: pluginsdk.HTTPRequest{Method: "POST", Header: jsonHeader, Body: []byte(`{"id":`)}, WantStatus: 400},
		{Name: "wrong key", Request: pluginsdk.HTTPRequest{Method: "POST", Body: []byte(`{}`),
			Header: map[string][]string{"X-Api-Key": {"wrong"}}}, WantStatus: 401},
		{Name: "GET", Request: pluginsdk.HTTPRequest{Method: "GET"}, WantStatus: 405},
		{Name: "XML", Request: pluginsdk.HTTPRequest{Method: "POST", Body: []byte(`<a/>`),
			Header: map[string][]string{"Content-Type": {"text/xml"}}}, WantStatus: 415},
	}
	tg.Perform = []plugintest.PerformCase{
		{Name: "post", Request: pluginsdk.PerformRequest{Action: "post", Input: json.RawMessage(`{"body":{"order":"A-1"}}`), IdempotencyKey: "run-1/notify", Attempt: 1},
			Check: func(t *testing.T, h *plugintest.Host, res *pluginsdk.PerformResult, err error) {
				if err != nil {
					return
				}
				reqs := h.Requests()
				last := reqs[len(reqs)-1]
				hv := http.Header(last.Header)
				if last.Method != "POST" || string(last.Body) != `{"order":"A-1"}` || hv.Get("Idempotency-Key") != "run-1/notify" ||
					hv.Get(SignatureHeader) != Sign([]byte("crm-secret"), last.Body) {
					t.Errorf("request %s %s %q %v", last.Method, last.URL, last.Body, last.Header)
				}
				if string(res.Output) != `{"status":201,"body":{"id":"crm-1"}}` {
					t.Errorf("output %s", res.Output)
				}
			}},
		{Name: "busy target", Request: pluginsdk.PerformRequest{Action: "post", Input: json.RawMessage(`{"body":{"fail":"busy"}}`)},
			WantError: true, WantRetryable: true},
		{Name: "rejected input", Request: pluginsdk.PerformRequest{Action: "post", Input: json.RawMessage(`{"body":{"fail":"invalid"}}`)},
			WantError: true, WantRetryable: false},
		{Name: "no body", Request: pluginsdk.PerformRequest{Action: "post", Input: json.RawMessage(`{}`)}, WantError: true},
	}
	plugintest.Acceptance(t, tg)
}
