package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
)

// TestSettings: analytics.js's settings request gets the Segment.io
// integration pointing back at the hook it came through; another write
// key, another method or a connection a browser cannot post to gets none.
func TestSettings(t *testing.T) {
	get := func(url, path string) *pluginsdk.HTTPRequest {
		return &pluginsdk.HTTPRequest{Method: "GET", URL: url, Path: path, Header: map[string][]string{"Origin": {"https://shop.example.com"}}}
	}
	const path = "/v1/projects/" + writeKey + "/settings"
	tests := []struct {
		name       string
		config     json.RawMessage
		auth       pluginsdk.Auth
		req        *pluginsdk.HTTPRequest
		status     int
		host, prot string
		apiKey     string
	}{
		{"plain http", goodConfig, goodAuth, get("http://127.0.0.1:8080/hooks/segment-prod"+path, path), 200, "127.0.0.1:8080/hooks/segment-prod/v1", "http", writeKey},
		{"public URL with a prefix", goodConfig, goodAuth, get("https://hub.example.com/junction/hooks/web"+path+"?x=1", path), 200, "hub.example.com/junction/hooks/web/v1", "https", writeKey},
		{"another write key", goodConfig, goodAuth, get("http://h/hooks/s/v1/projects/OTHER/settings", "/v1/projects/OTHER/settings"), 404, "", "", ""},
		{"a key that is a prefix", goodConfig, goodAuth, get("http://h/hooks/s/v1/projects/WRITE/settings", "/v1/projects/WRITE/settings"), 404, "", "", ""},
		{"POST", goodConfig, goodAuth, &pluginsdk.HTTPRequest{Method: "POST", URL: "http://h/hooks/s" + path, Path: path}, 405, "", "", ""},
		{"no key in the path", goodConfig, goodAuth, get("http://h/hooks/s/v1/projects//settings", "/v1/projects//settings"), 404, "", "", ""},
		{"signature only: a browser cannot post", goodConfig, pluginsdk.Auth{}, get("http://h/hooks/s"+path, path), 404, "", "", ""},
		{"open connection serves any key", json.RawMessage(`{}`), pluginsdk.Auth{Type: pluginsdk.AuthNone}, get("http://h:1/hooks/s/v1/projects/K1/settings", "/v1/projects/K1/settings"), 200, "h:1/hooks/s/v1", "http", "K1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := configured(t, tt.config, tt.auth)
			res, err := s.Receive(context.Background(), tt.req)
			if got := statusOf(res, err); got != tt.status {
				t.Fatalf("status %d (%v), want %d", got, err, tt.status)
			}
			if tt.status != 200 {
				return
			}
			if len(res.Events) != 0 {
				t.Errorf("settings stored %d events", len(res.Events))
			}
			var got struct {
				Integrations map[string]struct {
					APIKey   string `json:"apiKey"`
					APIHost  string `json:"apiHost"`
					Protocol string `json:"protocol"`
				} `json:"integrations"`
				Metrics      struct{ SampleRate *float64 } `json:"metrics"`
				EdgeFunction map[string]any                `json:"edgeFunction"`
			}
			if err := json.Unmarshal(res.Response.Body, &got); err != nil {
				t.Fatalf("body %s: %v", res.Response.Body, err)
			}
			seg, ok := got.Integrations["Segment.io"]
			if !ok || len(got.Integrations) != 1 || seg.APIKey != tt.apiKey || seg.APIHost != tt.host || seg.Protocol != tt.prot {
				t.Errorf("integrations %+v, want only Segment.io {%s %s %s}", got.Integrations, tt.apiKey, tt.host, tt.prot)
			}
			if got.Metrics.SampleRate == nil || *got.Metrics.SampleRate != 0 || got.EdgeFunction == nil {
				t.Errorf("body %s: want metrics off and an empty edgeFunction", res.Response.Body)
			}
			if ct := res.Response.Header["Content-Type"]; len(ct) != 1 || ct[0] != "application/json" {
				t.Errorf("Content-Type %v", ct)
			}
		})
	}
}
