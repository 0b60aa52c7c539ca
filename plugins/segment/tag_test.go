package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

func getTag(t *testing.T, s *Segment, method string, header map[string][]string) (*pluginsdk.ReceiveResult, error) {
	t.Helper()
	req := pluginsdk.HTTPRequest{Method: method, URL: "http://junction.test/hooks/test/tag.js", Path: "/tag.js", Header: header}
	return s.Receive(context.Background(), &req)
}

// TestTagServed: the script is served with a JavaScript type, caching
// headers and an ETag that a revalidation matches, and carries the
// connection's privacy settings but never its write key or secret.
func TestTagServed(t *testing.T) {
	s := configured(t, goodConfig, goodAuth)
	res, err := getTag(t, s, "GET", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Response
	if r.Status != 200 || len(res.Events) != 0 {
		t.Fatalf("status %d, %d events", r.Status, len(res.Events))
	}
	for k, want := range map[string]string{
		"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": tagCacheControl, "X-Content-Type-Options": "nosniff",
	} {
		if got := strings.Join(r.Header[k], ","); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	etag := strings.Join(r.Header["Etag"], "")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
		t.Errorf("ETag %q", etag)
	}
	if bytes.Contains(r.Body, []byte(writeKey)) || bytes.Contains(r.Body, []byte(sharedSecret)) {
		t.Error("the script holds a credential; the page passes the write key, never the hub")
	}
	if !bytes.Contains(r.Body, []byte(`var cfg = {"respectDNT":true,"requireConsent":false};`)) {
		t.Errorf("the script lacks the default settings:\n%.400s", r.Body)
	}
	if len(r.Body) > 10<<10 {
		t.Errorf("the script is %d bytes; keep it a few KB", len(r.Body))
	}

	tests := []struct {
		name, method, ifNoneMatch string
		want                      int
	}{
		{"revalidation with the current ETag", "GET", etag, 304},
		{"weak form and a list", "GET", `"old", W/` + etag, 304},
		{"any", "GET", "*", 304},
		{"a stale ETag", "GET", `"0000"`, 200},
		{"HEAD", "HEAD", "", 200},
		{"POST is not allowed", "POST", "", 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string][]string{}
			if tt.ifNoneMatch != "" {
				h["If-None-Match"] = []string{tt.ifNoneMatch}
			}
			res, err := getTag(t, s, tt.method, h)
			if got := statusOf(res, err); got != tt.want {
				t.Fatalf("status %d, want %d (%v)", got, tt.want, err)
			}
			if tt.want == 304 && (len(res.Response.Body) != 0 || res.Response.Header["Etag"][0] != etag) {
				t.Errorf("304 with body %q, ETag %v", res.Response.Body, res.Response.Header["Etag"])
			}
		})
	}
}

// TestTagConfig: each config.tag key changes the script served (and its
// ETag, so cached copies are replaced); a misspelled key is refused.
func TestTagConfig(t *testing.T) {
	tests := []struct {
		name, tag, want string
	}{
		{"defaults", ``, `{"respectDNT":true,"requireConsent":false}`},
		{"DNT ignored", `"tag": {"respect_dnt": false}`, `{"respectDNT":false,"requireConsent":false}`},
		{"consent required", `"tag": {"require_consent": true}`, `{"respectDNT":true,"requireConsent":true}`},
		{"both, from ${VAR} strings", `"tag": {"respect_dnt": "false", "require_consent": "true"}`, `{"respectDNT":false,"requireConsent":true}`},
	}
	etags := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := `{"dedup_window": "24h"`
			if tt.tag != "" {
				cfg += ", " + tt.tag
			}
			s := configured(t, json.RawMessage(cfg+"}"), goodAuth)
			res, err := getTag(t, s, "GET", nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(res.Response.Body, []byte("var cfg = "+tt.want+";")) {
				t.Errorf("script lacks %s", tt.want)
			}
			etag := res.Response.Header["Etag"][0]
			if other, seen := etags[etag]; seen {
				t.Errorf("same ETag as %q for different settings", other)
			}
			etags[etag] = tt.name
		})
	}
	for _, bad := range []string{`{"tag": {"respect_dtn": true}}`, `{"tag": {"require_consent": "maybe"}}`, `{"tag": true}`} {
		s := &Segment{}
		if err := s.Configure(context.Background(), hostContext(t, json.RawMessage(bad))); err == nil || !strings.Contains(err.Error(), "config.tag") {
			t.Errorf("%s: %v, want an error naming config.tag", bad, err)
		}
	}
}

// TestTagSourceHasNoPlaceholderLeft: the hub fills exactly one settings
// placeholder, so the script never runs with an empty config by mistake.
func TestTagSourceHasNoPlaceholderLeft(t *testing.T) {
	if n := bytes.Count(tagSource, []byte("/*CONFIG*/{}/*END*/")); n != 1 {
		t.Fatalf("tag.js has %d settings placeholders, want 1", n)
	}
	a := newTagAsset(TagConfig{})
	if bytes.Contains(a.body, []byte("/*CONFIG*/")) {
		t.Error("placeholder left in the served script")
	}
}

func hostContext(t *testing.T, cfg json.RawMessage) *pluginsdk.Context {
	t.Helper()
	return plugintest.NewHost(t).Context(cfg, goodAuth)
}
