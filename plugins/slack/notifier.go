package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

const defaultTimeout = 10 * time.Second

// Notifier posts messages to a Slack-compatible incoming webhook (Slack,
// Mattermost, Rocket.Chat, or any endpoint taking the same JSON).
//
// Config (the connection's `config:` block):
//
//	url:        incoming-webhook URL (required)
//	username:   display name of the sender (optional)
//	icon_emoji: sender icon, e.g. ":bell:" (optional)
//	channel:    default channel, e.g. "#orders" (optional)
//	timeout:    per-request timeout (default 10s)
//
// Auth: none, or api_key (sent as "Authorization: Bearer <secret>").
type Notifier struct {
	cfg  settings
	auth pluginsdk.Auth
	http pluginsdk.HTTPClient
	log  *slog.Logger
}

type settings struct {
	URL       string        `json:"url"`
	Username  string        `json:"username"`
	IconEmoji string        `json:"icon_emoji"`
	Channel   string        `json:"channel"`
	Timeout   time.Duration `json:"timeout"`
}

// notifyInput is the `with:` block of a notify task.
type notifyInput struct {
	Text    string            `json:"text"`
	Channel string            `json:"channel"`
	Fields  map[string]string `json:"fields"`
}

// message is the JSON posted to the webhook.
type message struct {
	Text        string       `json:"text"`
	Username    string       `json:"username,omitempty"`
	IconEmoji   string       `json:"icon_emoji,omitempty"`
	Channel     string       `json:"channel,omitempty"`
	Attachments []attachment `json:"attachments,omitempty"`
}

type attachment struct {
	Fields []field `json:"fields"`
}

type field struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

// New returns an unconfigured notifier.
func New() pluginsdk.Connector { return &Notifier{} }

// Spec describes the notifier.
func (n *Notifier) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{
		Name:        "slack",
		Version:     "0.1.0",
		ABI:         pluginsdk.ABIVersion,
		Description: "Slack-style notifier: posts a JSON message to an incoming-webhook URL",
		Direction:   pluginsdk.Outbound,
		Auth:        []pluginsdk.AuthType{pluginsdk.AuthNone, pluginsdk.AuthAPIKey},
		Config: []pluginsdk.Param{
			{Name: "url", Type: pluginsdk.TypeString, Required: true, Description: "incoming-webhook URL"},
			{Name: "username", Type: pluginsdk.TypeString, Description: "display name of the sender"},
			{Name: "icon_emoji", Type: pluginsdk.TypeString, Description: "sender icon, e.g. :bell:"},
			{Name: "channel", Type: pluginsdk.TypeString, Description: "default channel"},
			{Name: "timeout", Type: pluginsdk.TypeDuration, Default: defaultTimeout.String(), Description: "per-request timeout"},
		},
		Roles: []string{pluginsdk.RolePerform},
		Actions: []pluginsdk.Action{{
			Name:        "notify",
			Description: "post a message",
			Input: []pluginsdk.Param{
				{Name: "text", Type: pluginsdk.TypeString, Required: true, Description: "message text (Slack mrkdwn)"},
				{Name: "channel", Type: pluginsdk.TypeString, Description: "overrides the connection's channel"},
				{Name: "fields", Type: pluginsdk.TypeObject, Description: "name/value pairs shown under the text"},
			},
		}},
	}
}

// Configure checks the config and keeps the host's HTTP client.
func (n *Notifier) Configure(ctx context.Context, c *pluginsdk.Context) error {
	cfg := settings{Timeout: defaultTimeout}
	problems := pluginsdk.DecodeConfig(c.Config, &cfg)
	if cfg.URL == "" {
		problems.At("config.url", "required")
	} else if u, err := url.Parse(cfg.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems.At("config.url", "want an http or https URL, got %q", cfg.URL)
	}
	problems.Check("config.timeout", pluginsdk.Duration(cfg.Timeout).Positive(0))
	switch c.Auth.Type {
	case "", pluginsdk.AuthNone:
	case pluginsdk.AuthAPIKey:
		if c.Auth.Secret == "" {
			problems.At("auth", "api_key: missing secret")
		}
	default:
		problems.At("auth", "unsupported type %q (want none or api_key)", c.Auth.Type)
	}
	if c.HTTP == nil {
		problems.Addf("the host granted no HTTP client")
	}
	if err := problems.Err(); err != nil {
		return err
	}
	n.cfg, n.auth, n.http, n.log = cfg, c.Auth, c.HTTP, c.Log
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Perform runs the notify action.
func (n *Notifier) Perform(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	if req.Action != "notify" {
		return nil, &pluginsdk.Error{Code: "unknown_action", Message: fmt.Sprintf("unknown action %q (want notify)", req.Action)}
	}
	if n.http == nil {
		return nil, pluginsdk.Errorf("notify: connector not configured")
	}
	var in notifyInput
	if len(req.Input) > 0 {
		if err := json.Unmarshal(req.Input, &in); err != nil {
			return nil, &pluginsdk.Error{Code: "invalid_input", Message: fmt.Sprintf("notify input: %v", err)}
		}
	}
	if in.Text == "" {
		return nil, &pluginsdk.Error{Code: "invalid_input", Message: "notify input: missing required key text"}
	}
	body, err := json.Marshal(n.render(in))
	if err != nil {
		return nil, pluginsdk.Errorf("notify: encode message: %v", err)
	}
	hreq := &pluginsdk.HTTPRequest{
		Method:  "POST",
		URL:     n.cfg.URL,
		Header:  map[string][]string{"Content-Type": {"application/json"}},
		Body:    body,
		Timeout: n.cfg.Timeout,
	}
	if req.IdempotencyKey != "" {
		hreq.Header["Idempotency-Key"] = []string{req.IdempotencyKey}
	}
	if n.auth.Type == pluginsdk.AuthAPIKey {
		hreq.Header["Authorization"] = []string{"Bearer " + n.auth.Secret}
	}
	resp, err := n.http.Do(ctx, hreq)
	if err != nil {
		var pe *pluginsdk.Error
		if errors.As(err, &pe) {
			return nil, pe // the host's own verdict (e.g. a host not allowed)
		}
		return nil, pluginsdk.Retryable("notify: post to %s: %v", host(n.cfg.URL), err)
	}
	if err := statusError(resp); err != nil {
		return nil, err
	}
	n.log.Debug("notified", "host", host(n.cfg.URL), "status", resp.Status, "attempt", req.Attempt)
	out, err := json.Marshal(map[string]any{"status": resp.Status, "response": responseBody(resp.Body)})
	if err != nil {
		return nil, pluginsdk.Errorf("notify: encode output: %v", err)
	}
	return &pluginsdk.PerformResult{Output: out}, nil
}

// render builds the webhook message; fields are sorted by name so the same
// input always posts the same bytes.
func (n *Notifier) render(in notifyInput) message {
	m := message{Text: in.Text, Username: n.cfg.Username, IconEmoji: n.cfg.IconEmoji, Channel: n.cfg.Channel}
	if in.Channel != "" {
		m.Channel = in.Channel
	}
	if len(in.Fields) > 0 {
		names := make([]string, 0, len(in.Fields))
		for k := range in.Fields {
			names = append(names, k)
		}
		sort.Strings(names)
		var a attachment
		for _, k := range names {
			a.Fields = append(a.Fields, field{Title: k, Value: in.Fields[k], Short: len(in.Fields[k]) <= 40})
		}
		m.Attachments = []attachment{a}
	}
	return m
}

// statusError maps a webhook's answer to a typed error: 429 and 5xx are
// worth retrying (429 after Retry-After), any other non-2xx is not.
func statusError(resp *pluginsdk.HTTPResponse) error {
	if resp.Status >= 200 && resp.Status < 300 {
		return nil
	}
	msg := fmt.Sprintf("webhook answered %d: %s", resp.Status, snippet(resp.Body))
	e := &pluginsdk.Error{Code: "http_" + strconv.Itoa(resp.Status), Message: msg}
	switch {
	case resp.Status == 429:
		e.Code, e.Retryable = "rate_limited", true
		e.RetryAfter = retryAfter(resp.Header)
	case resp.Status >= 500:
		e.Retryable = true
		e.RetryAfter = retryAfter(resp.Header)
	}
	return e
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(h map[string][]string) time.Duration {
	v := ""
	if vs := h["Retry-After"]; len(vs) > 0 {
		v = strings.TrimSpace(vs[0])
	}
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := time.Parse(time.RFC1123, v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// responseBody keeps a JSON answer as JSON and anything else (Slack answers
// "ok") as a string.
func responseBody(b []byte) any {
	if json.Valid(b) {
		return json.RawMessage(b)
	}
	return string(b)
}

func snippet(b []byte) string {
	const limit = 200
	s := strings.TrimSpace(string(b))
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}

func host(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return raw
}
