// Package plugintest tests a connector against fake host services, and holds
// the acceptance suite every connector must pass. It depends on pluginsdk, the
// standard library and goleak only, so a connector's tests stay as light as
// the connector:
//
//	func TestAcceptance(t *testing.T) {
//		tg := plugintest.Native("hello", func() pluginsdk.Connector { return &Hello{} })
//		tg.Config = json.RawMessage(`{"greeting": "Hello"}`)
//		plugintest.Acceptance(t, tg)
//	}
//
// Running the same suite on the connector built to Wasm or as a go-plugin
// process needs Junction's host (wazero, go-plugin, the Go toolchain): that
// lives in the separate package pluginsdk/plugintest/hostrun, which only the
// tests that use it import.
package plugintest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// Host is a fake set of host services: HTTP answered by a handler you give
// (every request recorded), an in-memory KV store with TTLs on a clock you
// control, and a logger writing to the test log. It is safe for concurrent
// use.
type Host struct {
	t testing.TB

	mu       sync.Mutex
	handler  http.Handler
	fn       func(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error)
	allowed  map[string]bool // nil: every host allowed
	requests []pluginsdk.HTTPRequest
	kv       map[string]kvEntry
	now      time.Time
	log      *slog.Logger
}

type kvEntry struct {
	v       []byte
	expires time.Time // zero: never
}

// NewHost returns a Host whose logger writes to t's log.
func NewHost(t testing.TB) *Host {
	h := &Host{t: t, kv: map[string]kvEntry{}, now: time.Unix(1_700_000_000, 0)}
	h.log = slog.New(slog.NewTextHandler(LogWriter(t), &slog.HandlerOptions{Level: slog.LevelDebug}))
	return h
}

// HandleHTTP answers outbound requests with handler (e.g. an http.ServeMux).
func (h *Host) HandleHTTP(handler http.Handler) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.handler, h.fn = handler, nil
}

// HandleHTTPFunc answers outbound requests with f.
func (h *Host) HandleHTTPFunc(f func(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.handler, h.fn = nil, f
}

// AllowHosts makes HTTP refuse every host not listed, the way Junction
// enforces a connection's allow-list (the refusal is a permanent
// *pluginsdk.Error).
func (h *Host) AllowHosts(hosts ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.allowed = map[string]bool{}
	for _, s := range hosts {
		h.allowed[strings.ToLower(s)] = true
	}
}

// Requests returns the outbound requests made so far, in order.
func (h *Host) Requests() []pluginsdk.HTTPRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]pluginsdk.HTTPRequest(nil), h.requests...)
}

// Advance moves the KV clock forward (TTL expiry).
func (h *Host) Advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

// Logger is the host's logger (to the test log).
func (h *Host) Logger() *slog.Logger { return h.log }

// Context returns a pluginsdk.Context for connection "test" with config, auth
// and this host's services.
func (h *Host) Context(config json.RawMessage, auth pluginsdk.Auth) *pluginsdk.Context {
	return &pluginsdk.Context{
		Connection: "test",
		Config:     config,
		Auth:       auth,
		BaseURL:    "http://junction.test",
		HTTP:       hostHTTP{h},
		KV:         hostKV{h},
		Log:        h.log.With("connection", "test"),
	}
}

type hostHTTP struct{ h *Host }

// Do implements pluginsdk.HTTPClient.
func (c hostHTTP) Do(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
	h := c.h
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("http %s %s: %v", req.Method, req.URL, err)
	}
	u, err := url.Parse(req.URL)
	if err != nil || u.Host == "" {
		return nil, pluginsdk.Errorf("http %s %q: not an absolute URL", req.Method, req.URL)
	}
	h.mu.Lock()
	cp := *req
	cp.Body = bytes.Clone(req.Body)
	h.requests = append(h.requests, cp)
	allowed := h.allowed == nil || h.allowed[strings.ToLower(u.Hostname())]
	handler, fn := h.handler, h.fn
	h.mu.Unlock()
	if !allowed {
		return nil, &pluginsdk.Error{Code: "host_not_allowed", Message: fmt.Sprintf("http %s %s: host %s is not in the connection's allow-list", req.Method, req.URL, u.Hostname())}
	}
	switch {
	case fn != nil:
		return fn(ctx, &cp)
	case handler != nil:
		r := httptest.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(cp.Body))
		for k, vs := range req.Header {
			r.Header[http.CanonicalHeaderKey(k)] = vs
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		res := w.Result()
		body, _ := io.ReadAll(res.Body)
		return &pluginsdk.HTTPResponse{Status: res.StatusCode, Header: res.Header, Body: body}, nil
	}
	return nil, pluginsdk.Errorf("http %s %s: the test host has no HTTP handler", req.Method, req.URL)
}

type hostKV struct{ h *Host }

// Get implements pluginsdk.KV.
func (k hostKV) Get(_ context.Context, key string) ([]byte, bool, error) {
	k.h.mu.Lock()
	defer k.h.mu.Unlock()
	e, ok := k.h.kv[key]
	if !ok || (!e.expires.IsZero() && !k.h.now.Before(e.expires)) {
		return nil, false, nil
	}
	return bytes.Clone(e.v), true, nil
}

// Set implements pluginsdk.KV.
func (k hostKV) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	k.h.mu.Lock()
	defer k.h.mu.Unlock()
	e := kvEntry{v: bytes.Clone(value)}
	if ttl > 0 {
		e.expires = k.h.now.Add(ttl)
	}
	k.h.kv[key] = e
	return nil
}

// Delete implements pluginsdk.KV.
func (k hostKV) Delete(_ context.Context, key string) error {
	k.h.mu.Lock()
	defer k.h.mu.Unlock()
	delete(k.h.kv, key)
	return nil
}

// Keys lists the live KV keys, sorted.
func (h *Host) Keys() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ks []string
	for k, e := range h.kv {
		if e.expires.IsZero() || h.now.Before(e.expires) {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// LogWriter returns a writer whose lines go to t's log until t ends, and are
// dropped after: t.Log after the end panics, and a connector (or a plugin
// process's stderr) may write from a late goroutine.
func LogWriter(t testing.TB) io.Writer {
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	return w
}

// testWriter is LogWriter's writer.
type testWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
}
