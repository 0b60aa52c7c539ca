package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/internal/apierror"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/workflow"
	"github.com/junctionhub/junction/core/workflow/workflowapi"
	"github.com/junctionhub/junction/pluginsdk"
)

// gateConnector stores one event per body line, and counts its Receive
// calls, so a test can tell a refusal by the host (no call) from one by
// the connector. A body "many:N" makes N events, "latin1" one event whose
// payload is not UTF-8.
type gateConnector struct {
	push  pluginsdk.Push
	calls *atomic.Int64
}

func (g *gateConnector) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{Name: "gate", Version: "1.0.0", ABI: pluginsdk.ABIVersion, Roles: []string{pluginsdk.RoleReceive}, Push: g.push}
}
func (g *gateConnector) Configure(context.Context, *pluginsdk.Context) error { return nil }
func (g *gateConnector) Receive(_ context.Context, r *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	g.calls.Add(1)
	body := string(r.Body)
	var evs []pluginsdk.Event
	switch {
	case strings.HasPrefix(body, "many:"):
		n, _ := strconv.Atoi(body[len("many:"):])
		for i := range n {
			evs = append(evs, pluginsdk.Event{Payload: json.RawMessage(strconv.Itoa(i))})
		}
	case body == "latin1":
		evs = append(evs, pluginsdk.Event{Payload: json.RawMessage("\"caf\xe9\"")})
	default:
		for _, line := range strings.Split(body, "\n") {
			q, _ := json.Marshal(line)
			evs = append(evs, pluginsdk.Event{Payload: q})
		}
	}
	return &pluginsdk.ReceiveResult{Events: evs, Response: pluginsdk.HTTPResponse{Status: 202}}, nil
}

const edgeMaxBody = 1024

type edgeServer struct {
	s     *Server
	st    *store.Badger
	calls atomic.Int64
}

func newEdgeServer(t *testing.T) *edgeServer {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	gzipKey := pluginsdk.Push{Encodings: []string{pluginsdk.EncodingGzip}, Credentials: []pluginsdk.Credential{{In: pluginsdk.CredentialHeader, Name: "X-Api-Key"}}}
	pushes := map[string]pluginsdk.Push{
		"keyed":  gzipKey,
		"open":   gzipKey,
		"noauth": gzipKey,
		"plain":  {Credentials: gzipKey.Credentials},
		"basic":  {Credentials: []pluginsdk.Credential{{In: pluginsdk.CredentialBasic}}},
		"path":   {Credentials: []pluginsdk.Credential{{In: pluginsdk.CredentialPath}}},
		"body":   {Credentials: []pluginsdk.Credential{{In: pluginsdk.CredentialSignature, Name: "X-Signature"}, {In: pluginsdk.CredentialBasic}, {In: pluginsdk.CredentialBody}}},
		"capped": gzipKey,
	}
	key := config.Auth{Type: "api_key", Secret: "s3cret"}
	conns := []*config.Connection{
		{Name: "keyed", Connector: "gate", Auth: key},
		{Name: "open", Connector: "gate", Auth: config.Auth{Type: "none"}},
		{Name: "noauth", Connector: "gate"},
		{Name: "plain", Connector: "gate", Auth: key},
		{Name: "basic", Connector: "gate", Auth: config.Auth{Type: "basic", Username: "u", Password: "p"}},
		{Name: "path", Connector: "gate", Auth: key},
		{Name: "body", Connector: "gate", Auth: key},
		{Name: "capped", Connector: "gate", Auth: key, Config: map[string]any{"max_events": 3}},
	}
	e := &edgeServer{st: st}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := connector.NewManager(ctx, connector.ManagerOptions{
		Connections: conns, Store: st, Logger: quiet,
		Open: func(_ context.Context, c *config.Connection) (connector.Opened, error) {
			return connector.Opened{Connector: &gateConnector{push: pushes[c.Name], calls: &e.calls}}, nil
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
	e.s = New(Options{Store: st, Connections: m, Engine: eng, AdminTokenHash: sha256.Sum256([]byte("tok")),
		MaxBodyBytes: edgeMaxBody, Logger: quiet,
		APIs: APIs{Workflows: &workflowapi.API{Bundle: &config.Bundle{}, Engine: eng, Store: st}}})
	return e
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestHookRefusals covers each refusal of the hook path, and that the
// cheap ones never reach the connector: nothing is stored by any of them.
func TestHookRefusals(t *testing.T) {
	key := map[string]string{"X-Api-Key": "s3cret"}
	with := func(h map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	// Small enough compressed to pass the raw limit, 512 times it expanded.
	zeros := make([]byte, 512*edgeMaxBody)
	tests := []struct {
		name     string
		path     string
		header   map[string]string
		body     []byte
		code     int
		errCode  string
		reaches  bool // the connector's Receive is called
		wantSeqs uint64
	}{
		{"accepted with the key", "/hooks/keyed", key, []byte("a\nb"), 202, "", true, 2},
		{"accepted gzip, once", "/hooks/keyed", with(key, "Content-Encoding", "gzip"), gz(t, []byte("a")), 202, "", true, 1},
		{"x-gzip is gzip", "/hooks/keyed", with(key, "Content-Encoding", "x-gzip"), gz(t, []byte("a")), 202, "", true, 1},
		{"explicit none is open", "/hooks/open", nil, []byte("a"), 202, "", true, 1},
		{"absent auth does not receive", "/hooks/noauth", key, []byte("a"), 404, "no_auth", false, 0},
		{"no key", "/hooks/keyed", nil, []byte("a"), 401, "unauthorized", false, 0},
		{"wrong key", "/hooks/keyed", map[string]string{"X-Api-Key": "guess"}, []byte("a"), 401, "unauthorized", false, 0},
		{"no key, bomb not read", "/hooks/keyed", map[string]string{"Content-Encoding": "gzip"}, gz(t, zeros), 401, "unauthorized", false, 0},
		{"gzip bomb", "/hooks/keyed", with(key, "Content-Encoding", "gzip"), gz(t, zeros), 413, "body_too_large", false, 0},
		{"one byte over after gunzip", "/hooks/keyed", with(key, "Content-Encoding", "gzip"), gz(t, make([]byte, edgeMaxBody+1)), 413, "body_too_large", false, 0},
		{"exactly the limit after gunzip", "/hooks/keyed", with(key, "Content-Encoding", "gzip"), gz(t, bytes.Repeat([]byte("a"), edgeMaxBody)), 202, "", true, 1},
		{"stacked gzip", "/hooks/keyed", with(key, "Content-Encoding", "gzip, gzip"), gz(t, gz(t, []byte("a"))), 415, "unsupported_encoding", false, 0},
		{"concatenated gzip members are one layer", "/hooks/keyed", with(key, "Content-Encoding", "gzip"), append(gz(t, []byte("a\n")), gz(t, []byte("b"))...), 202, "", true, 2},
		{"concatenated members over the limit", "/hooks/keyed", with(key, "Content-Encoding", "gzip"), append(gz(t, make([]byte, 600)), gz(t, make([]byte, 600))...), 413, "body_too_large", false, 0},
		{"deflate", "/hooks/keyed", with(key, "Content-Encoding", "deflate"), []byte("x"), 415, "unsupported_encoding", false, 0},
		{"br", "/hooks/keyed", with(key, "Content-Encoding", "br"), []byte("x"), 415, "unsupported_encoding", false, 0},
		{"gzip not declared", "/hooks/plain", with(key, "Content-Encoding", "gzip"), gz(t, []byte("a")), 415, "unsupported_encoding", false, 0},
		{"not gzip at all", "/hooks/keyed", with(key, "Content-Encoding", "gzip"), []byte("plain"), 400, "bad_encoding", false, 0},
		{"identity is fine", "/hooks/plain", with(key, "Content-Encoding", "identity"), []byte("a"), 202, "", true, 1},
		{"basic right", "/hooks/basic", map[string]string{"Authorization": basic("u", "p")}, []byte("a"), 202, "", true, 1},
		{"basic wrong password", "/hooks/basic", map[string]string{"Authorization": basic("u", "x")}, []byte("a"), 401, "unauthorized", false, 0},
		{"basic missing", "/hooks/basic", nil, []byte("a"), 401, "unauthorized", false, 0},
		{"path token right", "/hooks/path/s3cret", nil, []byte("a"), 202, "", true, 1},
		{"path token wrong", "/hooks/path/guess", nil, []byte("a"), 401, "unauthorized", false, 0},
		{"path token missing", "/hooks/path", nil, []byte("a"), 401, "unauthorized", false, 0},
		{"body credential: the connector decides", "/hooks/body", nil, []byte("a"), 202, "", true, 1},
		{"body credential, wrong header key", "/hooks/body", map[string]string{"Authorization": basic("guess", "")}, []byte("a"), 401, "unauthorized", false, 0},
		{"signature present", "/hooks/body", map[string]string{"X-Signature": "ab12"}, []byte("a"), 202, "", true, 1},
		{"events at the cap", "/hooks/capped", key, []byte("many:3"), 202, "", true, 3},
		{"events over the cap", "/hooks/capped", key, []byte("many:4"), 413, "too_many_events", true, 0},
		{"events over the default cap", "/hooks/keyed", key, []byte("many:1001"), 413, "too_many_events", true, 0},
		{"invalid UTF-8", "/hooks/keyed", key, []byte("latin1"), 400, "invalid_utf8", true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEdgeServer(t)
			req := httptest.NewRequest("POST", tc.path, bytes.NewReader(tc.body))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := e.s.App().Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, b, tc.code)
			}
			if tc.errCode != "" {
				var eb apierror.Body
				if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Code != tc.errCode || eb.Error.Message == "" {
					t.Errorf("body %s, want the JSON error shape with code %s", b, tc.errCode)
				}
			}
			if got := e.calls.Load() > 0; got != tc.reaches {
				t.Errorf("connector called: %v, want %v", got, tc.reaches)
			}
			if got := e.st.Log().LastSeq(); got != tc.wantSeqs {
				t.Errorf("stored %d events, want %d", got, tc.wantSeqs)
			}
		})
	}
}

func TestCapRead(t *testing.T) {
	tests := []struct {
		name  string
		r     io.Reader
		limit int64
		want  int
		err   error
	}{
		{"empty", strings.NewReader(""), 10, 0, nil},
		{"under", strings.NewReader("abc"), 10, 3, nil},
		{"exactly", strings.NewReader(strings.Repeat("a", 4096)), 4096, 4096, nil},
		{"one over", strings.NewReader(strings.Repeat("a", 4097)), 4096, 0, errBodyTooLarge},
		// An endless stream ends at limit+1 bytes read.
		{"endless", zeroReader{}, 1 << 20, 0, errBodyTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := capRead(tc.r, tc.limit, 16)
			if !errors.Is(err, tc.err) || len(got) != tc.want {
				t.Fatalf("got %d bytes, %v; want %d, %v", len(got), err, tc.want, tc.err)
			}
			if int64(cap(got)) > tc.limit+1 {
				t.Errorf("buffer cap %d for a limit of %d", cap(got), tc.limit)
			}
		})
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// BenchmarkGzipBomb reports what refusing a 10 MB-of-zeros gzip costs with
// a 1 MiB limit: bytes allocated per request stay near the limit.
func BenchmarkGzipBomb(b *testing.B) {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(make([]byte, 10<<20))
	w.Close()
	hdr := map[string][]string{"Content-Encoding": {"gzip"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeBody(buf.Bytes(), hdr, []string{"gzip"}, 1<<20); err == nil {
			b.Fatal("bomb accepted")
		}
	}
}

// TestAPITokenFailuresAreLimited: after tokenFailures wrong bearer tokens
// from one address, the API answers 429 with Retry-After, even to the
// right token, until the window ends.
func TestAPITokenFailuresAreLimited(t *testing.T) {
	e := newEdgeServer(t)
	get := func(tok string) (int, string) {
		req := httptest.NewRequest("GET", "/api/v1/runs", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := e.s.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	if code, _ := get("tok"); code != 200 {
		t.Fatalf("right token: %d", code)
	}
	for i := range tokenFailures {
		if code, _ := get("guess"); code != 401 {
			t.Fatalf("wrong token %d: %d, want 401", i+1, code)
		}
	}
	code, retry := get("tok")
	if code != 429 {
		t.Fatalf("right token after %d failures: %d, want 429", tokenFailures, code)
	}
	if n, err := strconv.Atoi(retry); err != nil || n <= 0 || n > int(tokenWindow.Seconds())+1 {
		t.Errorf("Retry-After %q, want seconds up to the window", retry)
	}
}
