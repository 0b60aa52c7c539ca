package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/pluginsdk"
)

const testKey = "s3cret-key"

// configure returns a connector configured for connection "orders-in".
func configure(t *testing.T, auth pluginsdk.Auth, cfg string, http pluginsdk.HTTPClient) *Connector {
	t.Helper()
	c := New().(*Connector)
	pc := &pluginsdk.Context{Connection: "orders-in", Auth: auth, HTTP: http}
	if cfg != "" {
		pc.Config = json.RawMessage(cfg)
	}
	if err := c.Configure(context.Background(), pc); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return c
}

func post(body string, header map[string][]string) *pluginsdk.HTTPRequest {
	h := map[string][]string{"Content-Type": {"application/json"}}
	for k, v := range header {
		h[k] = v
	}
	return &pluginsdk.HTTPRequest{Method: "POST", URL: "http://hub.example/hooks/orders-in", Header: h, Body: []byte(body)}
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReceive(t *testing.T) {
	apiKey := pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: testKey}
	withKey := map[string][]string{"X-Api-Key": {testKey}}
	order := readTestdata(t, "order.json")
	orders := readTestdata(t, "orders.json")

	tests := []struct {
		name     string
		auth     pluginsdk.Auth
		cfg      string
		req      *pluginsdk.HTTPRequest
		status   int      // 202 on success, else the error's status
		payloads []string // exact event payloads on success
		dedup    []string
		msg      string // substring of the error message
	}{
		{name: "object", auth: apiKey, req: post(order, withKey), status: 202,
			payloads: []string{strings.TrimSpace(order)}},
		{name: "object keeps its bytes", req: post(" \n{ \"b\" : 2,\"a\":1 }\n", nil), status: 202,
			payloads: []string{`{ "b" : 2,"a":1 }`}},
		{name: "array", auth: apiKey, req: post(orders, withKey), status: 202, payloads: []string{
			`{"id": "A-1001", "customer": {"email": "ada@example.com"}, "total": 129.5}`,
			`{"id": "A-1002", "customer": {"email": "grace@example.com"}, "total": 12}`}},
		{name: "array with brackets and escapes in strings", req: post(`[{"a":"]},{\\\""} ,{"b":["x",{"c":"[{"}]}]`, nil), status: 202,
			payloads: []string{`{"a":"]},{\\\""}`, `{"b":["x",{"c":"[{"}]}`}},
		{name: "array of one", req: post(`[{"a":1}]`, nil), status: 202, payloads: []string{`{"a":1}`}},
		{name: "bad JSON", req: post(`{"a":}`, nil), status: 400, msg: "invalid JSON at byte 6: invalid character '}' looking for beginning of value"},
		{name: "truncated JSON", req: post(`{"a":1`, nil), status: 400, msg: "invalid JSON at byte 6: unexpected end of JSON input"},
		{name: "bad JSON inside array", req: post(`[{"a":1},{"b":tru}]`, nil), status: 400, msg: "invalid JSON at byte 18: invalid character '}' in literal true"},
		{name: "trailing garbage", req: post(`{"a":1} {"b":2}`, nil), status: 400, msg: "invalid JSON at byte 9"},
		{name: "empty body", req: post("", nil), status: 400, msg: "empty body"},
		{name: "empty array", req: post(" [ ] ", nil), status: 400, msg: "empty array"},
		{name: "non-object element", req: post(`[{"a":1}, 2]`, nil), status: 400, msg: "element 1 is a JSON number"},
		{name: "nested array element", req: post(`[[{"a":1}]]`, nil), status: 400, msg: "element 0 is a JSON array"},
		{name: "scalar body", req: post(`"hello"`, nil), status: 400, msg: "body is a JSON string"},
		{name: "null body", req: post(`null`, nil), status: 400, msg: "body is a JSON null"},
		{name: "wrong key", auth: apiKey, req: post(order, map[string][]string{"X-Api-Key": {"guess"}}), status: 401},
		{name: "missing key", auth: apiKey, req: post(order, nil), status: 401},
		{name: "key prefix", auth: apiKey, req: post(order, map[string][]string{"X-Api-Key": {testKey[:4]}}), status: 401},
		{name: "no auth ignores key", req: post(`{}`, map[string][]string{"X-Api-Key": {"anything"}}), status: 202, payloads: []string{`{}`}},
		{name: "GET", req: &pluginsdk.HTTPRequest{Method: "GET"}, status: 405, msg: "method GET is not allowed"},
		{name: "PUT", auth: apiKey, req: &pluginsdk.HTTPRequest{Method: "PUT", Body: []byte(`{}`)}, status: 405},
		{name: "text/plain", req: post(`{}`, map[string][]string{"Content-Type": {"text/plain"}}), status: 415, msg: `"text/plain" is not JSON`},
		{name: "form", req: post(`a=1`, map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}}), status: 415},
		{name: "json with charset", req: post(`{}`, map[string][]string{"Content-Type": {"application/json; charset=utf-8"}}), status: 202, payloads: []string{`{}`}},
		{name: "+json", req: post(`{}`, map[string][]string{"Content-Type": {"application/cloudevents+json"}}), status: 202, payloads: []string{`{}`}},
		{name: "no content type", req: &pluginsdk.HTTPRequest{Method: "POST", Body: []byte(`{}`)}, status: 202, payloads: []string{`{}`}},
		{name: "dedup header, object", cfg: `{"dedup_key_header":"Idempotency-Key"}`,
			req: post(`{"a":1}`, map[string][]string{"Idempotency-Key": {"k-9"}}), status: 202, payloads: []string{`{"a":1}`}, dedup: []string{"k-9"}},
		{name: "dedup header, array", cfg: `{"dedup_key_header":"idempotency-key"}`,
			req: post(`[{"a":1},{"a":2}]`, map[string][]string{"Idempotency-Key": {"k-9"}}), status: 202,
			payloads: []string{`{"a":1}`, `{"a":2}`}, dedup: []string{"k-9#0", "k-9#1"}},
		{name: "dedup header absent", cfg: `{"dedup_key_header":"Idempotency-Key"}`,
			req: post(`{"a":1}`, nil), status: 202, payloads: []string{`{"a":1}`}, dedup: []string{""}},
		{name: "dedup path", cfg: `{"dedup_path":"id"}`, req: post(orders, nil), status: 202, dedup: []string{"A-1001", "A-1002"}},
		{name: "dedup path number, missing, null", cfg: `{"dedup_path":"$.id"}`,
			req: post(`[{"id":17},{"x":1},{"id":null}]`, nil), status: 202, dedup: []string{"17", "", ""}},
		{name: "dedup path object", cfg: `{"dedup_path":"id"}`, req: post(`[{"id":"a"},{"id":{"n":1}}]`, nil), status: 400,
			msg: `element 1: dedup key "id" is a JSON object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := configure(t, tt.auth, tt.cfg, nil)
			res, err := c.Receive(context.Background(), tt.req)
			if tt.status != 202 {
				var pe *pluginsdk.Error
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v, want *pluginsdk.Error with status %d", err, tt.status)
				}
				if pe.Status != tt.status || !strings.Contains(pe.Message, tt.msg) {
					t.Fatalf("err = status %d %q, want status %d containing %q", pe.Status, pe.Message, tt.status, tt.msg)
				}
				if res != nil {
					t.Errorf("result %v returned with an error: nothing may be stored", res)
				}
				return
			}
			if err != nil {
				t.Fatalf("Receive: %v", err)
			}
			if res.Response.Status != 202 {
				t.Errorf("status %d, want 202", res.Response.Status)
			}
			var body struct{ Accepted int }
			if err := json.Unmarshal(res.Response.Body, &body); err != nil || body.Accepted != len(res.Events) {
				t.Errorf("response body %s (%v), want accepted = %d", res.Response.Body, err, len(res.Events))
			}
			for i, want := range tt.payloads {
				if i >= len(res.Events) || string(res.Events[i].Payload) != want {
					t.Fatalf("events %v, want payloads %q", res.Events, tt.payloads)
				}
			}
			if tt.payloads != nil && len(res.Events) != len(tt.payloads) {
				t.Errorf("%d events, want %d", len(res.Events), len(tt.payloads))
			}
			for i, want := range tt.dedup {
				if res.Events[i].DedupKey != want {
					t.Errorf("event %d dedup key %q, want %q", i, res.Events[i].DedupKey, want)
				}
			}
			for i, ev := range res.Events {
				if ev.Type != EventType {
					t.Errorf("event %d type %q, want %q", i, ev.Type, EventType)
				}
			}
		})
	}
}

func TestRegisteredAsBuiltin(t *testing.T) {
	b, ok := connector.LookupBuiltin("webhook")
	if !ok {
		t.Fatal("webhook is not registered")
	}
	s := b.New().Spec()
	if s.Name != "webhook" || s.Version != "1.0.0" || s.ABI != pluginsdk.ABIVersion || s.Direction != pluginsdk.Bidirectional {
		t.Errorf("spec = %+v", s)
	}
	if !s.HasRole(pluginsdk.RoleReceive) || !s.HasRole(pluginsdk.RolePerform) {
		t.Errorf("roles = %v", s.Roles)
	}
	if _, ok := s.Action(ActionPost); !ok {
		t.Errorf("no post action in %+v", s.Actions)
	}
}

func TestConfigureErrors(t *testing.T) {
	tests := []struct {
		name string
		auth pluginsdk.Auth
		cfg  string
		want []string
	}{
		{"unknown key", pluginsdk.Auth{}, `{"signing_secrets":"x"}`, []string{"config.signing_secrets: unknown key; did you mean signing_secret?"}},
		{"several problems at once", pluginsdk.Auth{}, `{"url":"ftp://x","method":"DELETE","timeout":"-1s"}`,
			[]string{"config.url: scheme \"ftp\"", "config.method: \"DELETE\"", "config.timeout: -1s"}},
		{"url without host", pluginsdk.Auth{}, `{"url":"https://"}`, []string{"config.url: has no host"}},
		{"timeout not a duration", pluginsdk.Auth{}, `{"timeout":"soon","method":"GET"}`, []string{`config.timeout: want a duration such as 10s, got "soon"`, "config.method"}},
		{"timeout zero", pluginsdk.Auth{}, `{"timeout":"0s"}`, []string{"config.timeout: 0s, want more than 0"}},
		{"timeout too long", pluginsdk.Auth{}, `{"timeout":"1h"}`, []string{"config.timeout: 1h0m0s, want more than 0 and at most 5m0s"}},
		{"reserved header", pluginsdk.Auth{}, `{"headers":{"content-type":"text/plain"}}`, []string{"Content-Type is set by the webhook connector"}},
		{"bad header name", pluginsdk.Auth{}, `{"headers":{"X Bad":"1"}}`, []string{`"X Bad" is not a valid header name`}},
		{"header value newline", pluginsdk.Auth{}, `{"headers":{"X-A":"1\r\nX-B: 2"}}`, []string{"value of X-A contains a line break"}},
		{"both dedup keys", pluginsdk.Auth{}, `{"dedup_key_header":"Idempotency-Key","dedup_path":"id"}`, []string{"not both"}},
		{"nested dedup path", pluginsdk.Auth{}, `{"dedup_path":"$.order.id"}`, []string{"want a top-level key"}},
		{"empty api key", pluginsdk.Auth{Type: pluginsdk.AuthAPIKey}, "", []string{"auth.secret is empty"}},
		{"basic auth", pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: "u", Password: "p"}, "", []string{`auth.type "basic" is not supported`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New().Configure(context.Background(), &pluginsdk.Context{Connection: "x", Auth: tt.auth, Config: json.RawMessage(tt.cfg)})
			if err == nil {
				t.Fatal("Configure succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "connection x: ") {
				t.Errorf("error %q does not name the connection", err)
			}
		})
	}
}

func TestConfigureDefaults(t *testing.T) {
	c := configure(t, pluginsdk.Auth{}, `{"url":"https://crm.example.com/in","timeout":30}`, nil)
	if c.cfg.Method != "POST" || c.cfg.Timeout != 30*time.Second {
		t.Errorf("method %q timeout %v, want POST and 30s (a number is seconds)", c.cfg.Method, c.cfg.Timeout)
	}
	c = configure(t, pluginsdk.Auth{}, `null`, nil)
	if c.cfg.Timeout != DefaultTimeout {
		t.Errorf("timeout %v, want the default %v", c.cfg.Timeout, DefaultTimeout)
	}
}

func BenchmarkReceive(b *testing.B) {
	c := New().(*Connector)
	if err := c.Configure(context.Background(), &pluginsdk.Context{Connection: "bench",
		Auth: pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: testKey}}); err != nil {
		b.Fatal(err)
	}
	one := `{"id":"A-1001","customer":{"email":"ada@example.com","name":"Ada Lovelace"},"items":[{"sku":"X-1","qty":2,"price":19.99}],"total":39.98,"currency":"EUR"}`
	for _, n := range []int{1, 100} {
		body := one
		if n > 1 {
			body = "[" + strings.TrimSuffix(strings.Repeat(one+",", n), ",") + "]"
		}
		req := post(body, map[string][]string{"X-Api-Key": {testKey}})
		b.Run(map[int]string{1: "object", 100: "array100"}[n], func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			events := 0
			for b.Loop() {
				res, err := c.Receive(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				events += len(res.Events)
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
