package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/internal/apierror"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/workflow"
	"github.com/junctionhub/junction/pluginsdk"
)

// leakyConnector is gateConnector answering with a CORS grant of its own,
// which the host must drop.
type leakyConnector struct{ gateConnector }

func (l *leakyConnector) Receive(ctx context.Context, r *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	res, err := l.gateConnector.Receive(ctx, r)
	if err == nil {
		res.Response.Header = map[string][]string{"access-control-allow-origin": {"*"}, "X-Kept": {"yes"}}
	}
	return res, err
}

func corsServer(t *testing.T) (*Server, *store.Badger, *atomic.Int64) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	push := pluginsdk.Push{Encodings: []string{pluginsdk.EncodingGzip}, Credentials: []pluginsdk.Credential{
		{In: pluginsdk.CredentialHeader, Name: "X-Api-Key"}, {In: pluginsdk.CredentialBasic}}}
	key := config.Auth{Type: "api_key", Secret: "s3cret"}
	shop := &config.CORS{Origins: []string{"https://shop.example.com"}, MaxAge: 2 * time.Hour}
	conns := []*config.Connection{
		{Name: "web", Connector: "gate", Auth: key, CORS: shop,
			Inbound: &config.Inbound{RateLimit: &config.RateLimit{PerSecond: 0.001, Burst: 3}}},
		{Name: "any", Connector: "gate", Auth: config.Auth{Type: "none"}, CORS: &config.CORS{Any: true, MaxAge: 10 * time.Minute}},
		{Name: "server", Connector: "gate", Auth: key},
		{Name: "leaky", Connector: "gate", Auth: config.Auth{Type: "none"}, CORS: shop},
		{Name: "noauth", Connector: "gate", CORS: shop},
	}
	var calls atomic.Int64
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := connector.NewManager(ctx, connector.ManagerOptions{
		Connections: conns, Store: st, Logger: quiet,
		Open: func(_ context.Context, c *config.Connection) (connector.Opened, error) {
			g := gateConnector{push: push, calls: &calls}
			if c.Name == "leaky" {
				return connector.Opened{Connector: &leakyConnector{g}}, nil
			}
			return connector.Opened{Connector: &g}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := connector.NewResolver(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := workflow.New(workflow.Options{Store: st, Resolver: r})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Store: st, Connections: m, Engine: eng, AdminTokenHash: sha256.Sum256([]byte("tok")),
		MaxBodyBytes: edgeMaxBody, Logger: quiet})
	return s, st, &calls
}

// TestCORS covers spec.cors on the hook path: the preflight, the grant on
// every answer to an allowed origin (errors included), and the refusal of
// any other origin before the connector is called or anything is stored.
func TestCORS(t *testing.T) {
	const shop = "https://shop.example.com"
	key := "s3cret"
	tests := []struct {
		name, method, path string
		header             map[string]string
		body               []byte
		code               int
		errCode            string
		grant              string // Access-Control-Allow-Origin; "" for none
		stored             uint64
		reaches            bool
		check              func(t *testing.T, h map[string][]string)
	}{
		{name: "preflight", method: "OPTIONS", path: "/hooks/web/v1/t",
			header: map[string]string{"Origin": shop, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type,x-retry-count"},
			code:   204, grant: shop,
			check: func(t *testing.T, h map[string][]string) {
				want := map[string]string{
					"Access-Control-Allow-Methods": "GET, POST",
					"Access-Control-Allow-Headers": "Authorization, Content-Type, X-Retry-Count, X-Api-Key, Content-Encoding",
					"Access-Control-Max-Age":       "7200",
					"Vary":                         "Origin",
				}
				for k, v := range want {
					if got := first(h[k]); got != v {
						t.Errorf("%s = %q, want %q", k, got, v)
					}
				}
			}},
		{name: "preflight of another origin", method: "OPTIONS", path: "/hooks/web/v1/t",
			header: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
			code:   403, errCode: "origin_not_allowed"},
		{name: "preflight, star, own max_age", method: "OPTIONS", path: "/hooks/any",
			header: map[string]string{"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
			code:   204, grant: "http://localhost:3000",
			check: func(t *testing.T, h map[string][]string) {
				if got := first(h["Access-Control-Max-Age"]); got != "600" {
					t.Errorf("max age %q, want 600", got)
				}
			}},
		{name: "allowed post", method: "POST", path: "/hooks/web", header: map[string]string{"Origin": shop, "X-Api-Key": key},
			body: []byte("a"), code: 202, grant: shop, stored: 1, reaches: true,
			check: func(t *testing.T, h map[string][]string) {
				if got := first(h["Access-Control-Expose-Headers"]); got != "Retry-After" {
					t.Errorf("expose %q, want Retry-After", got)
				}
			}},
		{name: "origin case differs", method: "POST", path: "/hooks/web", header: map[string]string{"Origin": "https://SHOP.example.com", "X-Api-Key": key},
			body: []byte("a"), code: 202, grant: "https://SHOP.example.com", stored: 1, reaches: true},
		{name: "401 carries the grant", method: "POST", path: "/hooks/web", header: map[string]string{"Origin": shop},
			body: []byte("a"), code: 401, errCode: "unauthorized", grant: shop},
		{name: "413 carries the grant", method: "POST", path: "/hooks/web", header: map[string]string{"Origin": shop, "X-Api-Key": key},
			body: make([]byte, edgeMaxBody+1), code: 413, errCode: "body_too_large", grant: shop},
		{name: "413 after gunzip carries the grant", method: "POST", path: "/hooks/web", header: map[string]string{"Origin": shop, "X-Api-Key": key, "Content-Encoding": "gzip"},
			body: gz(t, make([]byte, 4*edgeMaxBody)), code: 413, errCode: "body_too_large", grant: shop},
		{name: "415 carries the grant", method: "POST", path: "/hooks/web", header: map[string]string{"Origin": shop, "X-Api-Key": key, "Content-Encoding": "br"},
			body: []byte("a"), code: 415, errCode: "unsupported_encoding", grant: shop},
		{name: "400 carries the grant", method: "POST", path: "/hooks/web", header: map[string]string{"Origin": shop, "X-Api-Key": key},
			body: []byte("latin1"), code: 400, errCode: "invalid_utf8", grant: shop, reaches: true},
		{name: "another origin: 403 before the connector", method: "POST", path: "/hooks/web", header: map[string]string{"Origin": "https://evil.example", "X-Api-Key": key},
			body: []byte("a"), code: 403, errCode: "origin_not_allowed"},
		{name: "a suffix of an allowed origin is another origin", method: "POST", path: "/hooks/web", header: map[string]string{"Origin": shop + ".evil.example", "X-Api-Key": key},
			body: []byte("a"), code: 403, errCode: "origin_not_allowed"},
		{name: "no cors config: browsers refused", method: "POST", path: "/hooks/server", header: map[string]string{"Origin": shop, "X-Api-Key": key},
			body: []byte("a"), code: 403, errCode: "origin_not_allowed"},
		{name: "no Origin: server SDKs unaffected", method: "POST", path: "/hooks/server", header: map[string]string{"X-Api-Key": key},
			body: []byte("a"), code: 202, stored: 1, reaches: true},
		{name: "no Origin on a cors connection", method: "POST", path: "/hooks/web", header: map[string]string{"X-Api-Key": key},
			body: []byte("a"), code: 202, stored: 1, reaches: true},
		{name: "a connector's own grant is dropped", method: "POST", path: "/hooks/leaky", header: map[string]string{"Origin": shop},
			body: []byte("a"), code: 202, grant: shop, stored: 1, reaches: true,
			check: func(t *testing.T, h map[string][]string) {
				if len(h["Access-Control-Allow-Origin"]) != 1 || first(h["X-Kept"]) != "yes" {
					t.Errorf("headers %v: want the host's one grant and the connector's other headers", h)
				}
			}},
		{name: "no auth: 404, no grant", method: "POST", path: "/hooks/noauth", header: map[string]string{"Origin": shop},
			body: []byte("a"), code: 404, errCode: "no_auth"},
		{name: "unknown connection: 404, no grant", method: "OPTIONS", path: "/hooks/nope",
			header: map[string]string{"Origin": shop, "Access-Control-Request-Method": "POST"}, code: 404, errCode: "unknown_connection"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, st, calls := corsServer(t)
			req := httptest.NewRequest(tc.method, tc.path, bytes.NewReader(tc.body))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := s.App().Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, b, tc.code)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.grant {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.grant)
			}
			if tc.grant == "" && resp.Header.Get("Access-Control-Allow-Headers") != "" {
				t.Errorf("a refused request got Access-Control-Allow-Headers")
			}
			if tc.errCode != "" {
				var eb apierror.Body
				if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Code != tc.errCode || eb.Error.Message == "" {
					t.Errorf("body %s, want the JSON error shape with code %s", b, tc.errCode)
				}
			}
			if got := calls.Load() > 0; got != tc.reaches {
				t.Errorf("connector called: %v, want %v", got, tc.reaches)
			}
			if got := st.Log().LastSeq(); got != tc.stored {
				t.Errorf("stored %d events, want %d", got, tc.stored)
			}
			if tc.check != nil {
				tc.check(t, resp.Header)
			}
		})
	}
}

// TestCORSRateLimited: a 429 to an allowed page carries the grant and
// exposes Retry-After, so analytics-next waits as long as it says.
func TestCORSRateLimited(t *testing.T) {
	s, _, _ := corsServer(t)
	var last int
	var h map[string][]string
	for range 4 {
		req := httptest.NewRequest("POST", "/hooks/web", bytes.NewReader([]byte("a")))
		req.Header.Set("Origin", "https://shop.example.com")
		req.Header.Set("X-Api-Key", "s3cret")
		resp, err := s.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		last, h = resp.StatusCode, resp.Header
	}
	if last != 429 || first(h["Access-Control-Allow-Origin"]) != "https://shop.example.com" ||
		first(h["Access-Control-Expose-Headers"]) != "Retry-After" || first(h["Retry-After"]) == "" {
		t.Fatalf("4th request: %d %v; want 429 with the grant and an exposed Retry-After", last, h)
	}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
