package twilio

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/builtin/twilio/twiliotest"
	"github.com/junctionhub/junction/core/connector/host"
	"github.com/junctionhub/junction/pluginsdk"
)

const (
	testSID   = "AC00000000000000000000000000000000"
	testToken = "example-auth-token"
)

// configure returns a connector using the hub's guarded HTTP client, with
// private addresses allowed (the fake API is on loopback).
func configure(t *testing.T, baseURL string, extra map[string]any) *Connector {
	t.Helper()
	cfg := map[string]any{"account_sid": testSID, "from": "+15005550006", "base_url": baseURL}
	for k, v := range extra {
		cfg[k] = v
	}
	raw, _ := json.Marshal(cfg)
	client := host.NewHTTPClient(host.HTTPOptions{AllowPrivate: true, Connection: "sms"})
	t.Cleanup(client.CloseIdleConnections)
	c := New().(*Connector)
	err := c.Configure(context.Background(), &pluginsdk.Context{Connection: "sms", Config: raw, HTTP: client,
		BaseURL: "https://junction.example.com",
		Auth:    pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: testSID, Password: testToken}})
	if err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return c
}

func sendSMS(c *Connector, input string) (*Output, error) {
	res, err := c.Perform(context.Background(), &pluginsdk.PerformRequest{Action: ActionSendSMS, Input: json.RawMessage(input), Attempt: 1})
	if err != nil {
		return nil, err
	}
	var out Output
	if err := json.Unmarshal(res.Output, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func TestSendSMS(t *testing.T) {
	api := twiliotest.NewServer(t, testSID, testToken)
	c := configure(t, api.URL, map[string]any{"status_callback": "https://junction.example.com/hooks/sms"})
	out, err := sendSMS(c, `{"to": "+393331234567", "body": "Ciao Giulia, com'è andata? https://surveys.example.com/s/abc"}`)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	msgs := api.Messages()
	if len(msgs) != 1 {
		t.Fatalf("API got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.To != "+393331234567" || m.From != "+15005550006" || m.Body != "Ciao Giulia, com'è andata? https://surveys.example.com/s/abc" ||
		m.StatusCallback != "https://junction.example.com/hooks/sms" || m.MessagingServiceSid != "" {
		t.Errorf("form %v", m.Form)
	}
	if out.SID != m.SID || !strings.HasPrefix(out.SID, "SM") || out.Status != "queued" || out.To != "+393331234567" {
		t.Errorf("output %+v, want sid %s queued", out, m.SID)
	}
}

func TestSendSMSWithMessagingService(t *testing.T) {
	api := twiliotest.NewServer(t, testSID, testToken)
	c := configure(t, api.URL, map[string]any{"from": nil, "messaging_service_sid": "MG11111111111111111111111111111111"})
	if _, err := sendSMS(c, `{"to": "+393331234567", "body": "hi"}`); err != nil {
		t.Fatal(err)
	}
	if m := api.Messages()[0]; m.MessagingServiceSid != "MG11111111111111111111111111111111" || m.From != "" {
		t.Errorf("form %v", m.Form)
	}
}

func TestSendSMSErrors(t *testing.T) {
	api := twiliotest.NewServer(t, testSID, testToken)
	api.FailTo("+1555", twiliotest.Error{Status: 400, Code: 21211, Message: "The 'To' number +1555 is not a valid phone number."})
	api.FailTo("+15550000429", twiliotest.Error{Status: 429, Code: 20429, Message: "Too Many Requests"})
	api.FailTo("+15550000500", twiliotest.Error{Status: 503, Code: 20503, Message: "Service unavailable"})
	tests := []struct {
		name, input, want string
		retryable         bool
	}{
		{"invalid To", `{"to": "+1555", "body": "hi"}`, "connection sms: twilio error 21211: The 'To' number +1555 is not a valid phone number.", false},
		{"rate limited", `{"to": "+15550000429", "body": "hi"}`, "twilio error 20429: Too Many Requests", true},
		{"unavailable", `{"to": "+15550000500", "body": "hi"}`, "twilio error 20503: Service unavailable", true},
		{"no to", `{"body": "hi"}`, "send_sms input: to is required", false},
		{"no body", `{"to": "+393331234567", "body": " "}`, "send_sms input: body is required", false},
		{"unknown key", `{"to": "+393331234567", "body": "hi", "media": "x"}`, `unknown field "media"`, false},
		{"too long", `{"to": "+393331234567", "body": "` + strings.Repeat("é", 1601) + `"}`, "body has 1601 characters, Twilio takes at most 1600", false},
	}
	c := configure(t, api.URL, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sendSMS(c, tt.input)
			pe := pluginsdk.AsError(err)
			if err == nil || !strings.Contains(pe.Message, tt.want) || pe.Retryable != tt.retryable {
				t.Errorf("error %v (retryable %v), want %q retryable=%v", err, pluginsdk.IsRetryable(err), tt.want, tt.retryable)
			}
		})
	}

	t.Run("wrong token", func(t *testing.T) {
		other := twiliotest.NewServer(t, testSID, "another-token")
		_, err := sendSMS(configure(t, other.URL, nil), `{"to": "+393331234567", "body": "hi"}`)
		if pe := pluginsdk.AsError(err); err == nil || pe.Retryable || !strings.Contains(pe.Message, "twilio error 20003: Authenticate") {
			t.Errorf("error %v", err)
		}
	})
}

// TestStatusErrorFromFixture reads Twilio's documented error answer.
func TestStatusErrorFromFixture(t *testing.T) {
	body, err := os.ReadFile("testdata/error-invalid-to.json")
	if err != nil {
		t.Fatal(err)
	}
	c := &Connector{conn: "sms"}
	e := c.statusError(&pluginsdk.HTTPResponse{Status: 400, Body: body}, "+39000", time.Now())
	want := "connection sms: twilio error 21211: The 'To' number +39000 is not a valid phone number. (https://www.twilio.com/docs/errors/21211)"
	if e.Message != want || e.Code != "twilio_21211" || e.Retryable {
		t.Errorf("error %+v, want %q", e, want)
	}
	e = c.statusError(&pluginsdk.HTTPResponse{Status: 503, Header: map[string][]string{"Retry-After": {"7"}}, Body: []byte("<html>down</html>")}, "+39000", time.Now())
	if !e.Retryable || e.RetryAfter != 7*time.Second || e.Message != "connection sms: send SMS to +39000: HTTP 503 Service Unavailable: <html>down</html>" {
		t.Errorf("error %+v", e)
	}
}

func TestSendSMSNeedsNetworkPolicy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }))
	t.Cleanup(srv.Close)
	raw, _ := json.Marshal(map[string]any{"account_sid": testSID, "from": "+15005550006", "base_url": srv.URL})
	client := host.NewHTTPClient(host.HTTPOptions{Connection: "sms"}) // allow_private off
	t.Cleanup(client.CloseIdleConnections)
	c := New()
	if err := c.Configure(context.Background(), &pluginsdk.Context{Connection: "sms", Config: raw, HTTP: client,
		Auth: pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: testSID, Password: testToken}}); err != nil {
		t.Fatal(err)
	}
	_, err := sendSMS(c.(*Connector), `{"to": "+393331234567", "body": "hi"}`)
	if pe := pluginsdk.AsError(err); err == nil || pe.Retryable || !strings.Contains(pe.Message, "allow_private") {
		t.Errorf("error %v, want a permanent refusal naming network.allow_private", err)
	}
}

func TestConfigure(t *testing.T) {
	good := pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: testSID, Password: testToken}
	tests := []struct {
		name   string
		config string
		auth   pluginsdk.Auth
		want   string // "" : accepted
	}{
		{"minimal", `{"account_sid": "` + testSID + `", "from": "+15005550006"}`, good, ""},
		{"alphanumeric sender", `{"account_sid": "` + testSID + `", "from": "Junction"}`, good, ""},
		{"api key needs webhook token for receive only", `{"account_sid": "` + testSID + `", "from": "+15005550006"}`,
			pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: "SK11111111111111111111111111111111", Password: "secret"}, ""},
		{"no sender", `{"account_sid": "` + testSID + `"}`, good, "config.from or config.messaging_service_sid: one is required"},
		{"bad sid", `{"account_sid": "AC123", "from": "+15005550006"}`, good, `config.account_sid: "AC123" is not an Account SID`},
		{"bad from", `{"account_sid": "` + testSID + `", "from": "555-1234"}`, good, `config.from: "555-1234" is neither`},
		{"bad base_url", `{"account_sid": "` + testSID + `", "from": "+15005550006", "base_url": "ftp://x"}`, good, "config.base_url"},
		{"unknown key", `{"account_sid": "` + testSID + `", "from": "+15005550006", "auth_token": "x"}`, good, "config.auth_token: unknown key"},
		{"no auth", `{"account_sid": "` + testSID + `", "from": "+15005550006"}`, pluginsdk.Auth{}, "auth: want {type: basic"},
		{"other account", `{"account_sid": "` + testSID + `", "from": "+15005550006"}`,
			pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: "AC11111111111111111111111111111111", Password: "x"}, "is not config.account_sid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New().Configure(context.Background(), &pluginsdk.Context{Connection: "sms", Config: json.RawMessage(tt.config), Auth: tt.auth})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Configure: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Configure error %v, want %q", err, tt.want)
			}
		})
	}
}
