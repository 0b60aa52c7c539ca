package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/connector/host"
	"github.com/junctionhub/junction/pluginsdk"
)

// target is a test receiver that records the last request and answers with
// whatever the test sets.
type target struct {
	mu      sync.Mutex
	method  string
	header  http.Header
	body    []byte
	status  int
	rheader map[string]string
	rbody   string
	block   chan struct{} // when set, the handler waits on it (or the client leaving)
}

func newTarget(t *testing.T) (*target, *httptest.Server) {
	t.Helper()
	tg := &target{status: 201, rbody: `{"id":"crm-77"}`}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		tg.mu.Lock()
		tg.method, tg.header, tg.body = r.Method, r.Header.Clone(), body
		status, rheader, rbody, block := tg.status, tg.rheader, tg.rbody, tg.block
		tg.mu.Unlock()
		if block != nil {
			select {
			case <-block:
			case <-r.Context().Done():
			}
			return
		}
		for k, v := range rheader {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, rbody)
	}))
	t.Cleanup(srv.Close)
	return tg, srv
}

func (tg *target) respond(status int, body string, header map[string]string) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.status, tg.rbody, tg.rheader = status, body, header
}

// outbound configures a connector posting to srv through the host's guarded
// client, opened to loopback as a test server needs.
func outbound(t *testing.T, srv *httptest.Server, extraCfg string) *Connector {
	t.Helper()
	hc := host.NewHTTPClient(host.HTTPOptions{AllowPrivate: true, Connection: "crm-out"})
	t.Cleanup(hc.CloseIdleConnections)
	cfg := fmt.Sprintf(`{"url":%q,"headers":{"X-Source":"junction"}%s}`, srv.URL+"/hooks/junction?token=abc", extraCfg)
	c := configure(t, pluginsdk.Auth{}, cfg, hc)
	c.conn = "crm-out"
	return c
}

func postReq(input string) *pluginsdk.PerformRequest {
	return &pluginsdk.PerformRequest{Action: "post", Input: json.RawMessage(input), IdempotencyKey: "run_01J/notify", Attempt: 1}
}

func TestPerformSendsSignedJSON(t *testing.T) {
	tg, srv := newTarget(t)
	const secret = "whsec-test"
	c := outbound(t, srv, `,"signing_secret":"`+secret+`"`)
	body := `{"order": "A-1001", "source": "junction", "amount": 12.50}`
	res, err := c.Perform(context.Background(), postReq(`{"body": `+body+`, "headers": {"x-trace": "t-1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(tg.body) != body {
		t.Errorf("sent body %q, want the input's bytes %q", tg.body, body)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	wantSig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	for name, want := range map[string]string{
		"Content-Type":         "application/json",
		"Idempotency-Key":      "run_01J/notify",
		"X-Junction-Signature": wantSig,
		"X-Source":             "junction",
		"X-Trace":              "t-1",
	} {
		if got := tg.header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	if tg.method != "POST" {
		t.Errorf("method %s, want POST", tg.method)
	}
	if got, want := string(res.Output), `{"status":201,"body":{"id":"crm-77"}}`; got != want {
		t.Errorf("output %s, want %s", got, want)
	}
}

func TestPerformMethodAndNoSignature(t *testing.T) {
	tg, srv := newTarget(t)
	c := outbound(t, srv, `,"method":"put"`)
	if _, err := c.Perform(context.Background(), postReq(`{"body":[1,2]}`)); err != nil {
		t.Fatal(err)
	}
	if tg.method != "PUT" || string(tg.body) != "[1,2]" {
		t.Errorf("got %s %q, want PUT [1,2]", tg.method, tg.body)
	}
	if v, ok := tg.header["X-Junction-Signature"]; ok {
		t.Errorf("signature %q sent without a signing secret", v)
	}
}

func TestPerformOutputBody(t *testing.T) {
	tg, srv := newTarget(t)
	c := outbound(t, srv, "")
	big := strings.Repeat("é", MaxOutputBody) // 2 bytes each: the cut falls inside a rune
	tests := []struct {
		name, rbody string
		want        func(out postOutput) bool
	}{
		{"json", `{"ok":true}`, func(o postOutput) bool { return string(o.Body) == `{"ok":true}` && !o.Truncated }},
		{"text", "queued", func(o postOutput) bool { return string(o.Body) == `"queued"` }},
		{"empty", "", func(o postOutput) bool { return string(o.Body) == "null" }},
		{"large text is capped", big, func(o postOutput) bool {
			var s string
			return json.Unmarshal(o.Body, &s) == nil && o.Truncated && len(s) <= MaxOutputBody && len(s) >= MaxOutputBody-1 && strings.Trim(s, "é") == ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg.respond(200, tt.rbody, nil)
			res, err := c.Perform(context.Background(), postReq(`{"body":{}}`))
			if err != nil {
				t.Fatal(err)
			}
			var out postOutput
			if err := json.Unmarshal(res.Output, &out); err != nil || out.Status != 200 || !tt.want(out) {
				t.Errorf("output %.200s (%v)", res.Output, err)
			}
		})
	}
}

func TestPerformStatusClassification(t *testing.T) {
	tg, srv := newTarget(t)
	c := outbound(t, srv, "")
	tests := []struct {
		status     int
		header     map[string]string
		body       string
		retryable  bool
		retryAfter time.Duration
	}{
		{500, nil, "boom", true, 0},
		{502, nil, "", true, 0},
		{503, map[string]string{"Retry-After": "120"}, "maintenance", true, 120 * time.Second},
		{429, map[string]string{"Retry-After": "7"}, `{"error":"rate limited"}`, true, 7 * time.Second},
		{408, nil, "", true, 0},
		{400, nil, `{"error":"field order is required"}`, false, 0},
		{404, map[string]string{"Retry-After": "5"}, "no such hook", false, 0},
		{410, nil, "", false, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			tg.respond(tt.status, tt.body, tt.header)
			_, err := c.Perform(context.Background(), postReq(`{"body":{"a":1}}`))
			var pe *pluginsdk.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *pluginsdk.Error", err)
			}
			if pe.Retryable != tt.retryable || pe.RetryAfter != tt.retryAfter || pe.Code != fmt.Sprintf("http_%d", tt.status) {
				t.Errorf("err = %+v, want retryable %v retryAfter %v", pe, tt.retryable, tt.retryAfter)
			}
			wantMsg := fmt.Sprintf("connection crm-out: POST %s/hooks/junction: HTTP %d %s", srv.URL, tt.status, http.StatusText(tt.status))
			if !strings.HasPrefix(pe.Message, wantMsg) || !strings.Contains(pe.Message, tt.body) {
				t.Errorf("message %q, want prefix %q and the body", pe.Message, wantMsg)
			}
			if strings.Contains(pe.Message, "token=abc") {
				t.Errorf("message %q leaks the URL's query", pe.Message)
			}
		})
	}
}

func TestPerformTimeoutIsRetryable(t *testing.T) {
	tg, srv := newTarget(t)
	tg.block = make(chan struct{})
	t.Cleanup(func() { close(tg.block) })
	c := outbound(t, srv, `,"timeout":"50ms"`)
	_, err := c.Perform(context.Background(), postReq(`{"body":{}}`))
	var pe *pluginsdk.Error
	if !errors.As(err, &pe) || !pe.Retryable || pe.Code != "timeout" {
		t.Fatalf("err = %#v, want a retryable timeout", err)
	}
}

func TestPerformUsesTheGuardedClient(t *testing.T) {
	_, srv := newTarget(t)
	// The default policy refuses loopback: proof that Perform goes through
	// the client it was given, not a client of its own.
	hc := host.NewHTTPClient(host.HTTPOptions{Connection: "crm-out"})
	c := configure(t, pluginsdk.Auth{}, fmt.Sprintf(`{"url":%q}`, srv.URL), hc)
	_, err := c.Perform(context.Background(), postReq(`{"body":{}}`))
	var pe *pluginsdk.Error
	if !errors.As(err, &pe) || pe.Retryable || !strings.Contains(pe.Message, "is loopback") {
		t.Fatalf("err = %v, want a permanent egress refusal", err)
	}
}

func TestPerformInputErrors(t *testing.T) {
	_, srv := newTarget(t)
	c := outbound(t, srv, "")
	tests := []struct {
		name string
		req  *pluginsdk.PerformRequest
		want string
	}{
		{"unknown action", &pluginsdk.PerformRequest{Action: "delete", Input: json.RawMessage(`{}`)}, `unknown action "delete"`},
		{"missing body", postReq(`{"headers":{}}`), "body is required"},
		{"unknown input key", postReq(`{"body":{},"bdy":{}}`), `unknown field "bdy"`},
		{"reserved header", postReq(`{"body":{},"headers":{"Idempotency-Key":"mine"}}`), "Idempotency-Key is set by the webhook connector"},
		{"non-string header", postReq(`{"body":{},"headers":{"X-N":1}}`), "post input"},
		{"not an object", postReq(`[1]`), "post input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Perform(context.Background(), tt.req)
			var pe *pluginsdk.Error
			if !errors.As(err, &pe) || pe.Retryable || !strings.Contains(pe.Message, tt.want) {
				t.Fatalf("err = %v, want a permanent error containing %q", err, tt.want)
			}
		})
	}
	inbound := configure(t, pluginsdk.Auth{}, "", nil)
	if _, err := inbound.Perform(context.Background(), postReq(`{"body":{}}`)); err == nil || !strings.Contains(err.Error(), "config.url is not set") {
		t.Errorf("perform without url: %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"120", 120 * time.Second},
		{" 0 ", 0},
		{"-5", 0},
		{"Sun, 01 Mar 2026 12:01:30 GMT", 90 * time.Second},
		{"Sunday, 01-Mar-26 12:00:10 GMT", 10 * time.Second}, // RFC 850
		{"Sun Mar  1 12:00:05 2026", 5 * time.Second},        // asctime
		{"Sun, 01 Mar 2026 11:00:00 GMT", 0},                 // past
		{"soon", 0},
		{"", 0},
		{"99999999999999999999", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.v, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func BenchmarkPerform(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(202)
	}))
	defer srv.Close()
	hc := host.NewHTTPClient(host.HTTPOptions{AllowPrivate: true})
	defer hc.CloseIdleConnections()
	c := New().(*Connector)
	if err := c.Configure(context.Background(), &pluginsdk.Context{Connection: "bench", HTTP: hc,
		Config: json.RawMessage(fmt.Sprintf(`{"url":%q,"signing_secret":"s"}`, srv.URL))}); err != nil {
		b.Fatal(err)
	}
	req := postReq(`{"body":{"order":"A-1001","source":"junction","amount":12.5}}`)
	for b.Loop() {
		if _, err := c.Perform(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}
