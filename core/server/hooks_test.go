package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/workflow"
	"github.com/junctionhub/junction/core/workflow/workflowapi"
	"github.com/junctionhub/junction/pluginsdk"
)

// echoConnector turns each line of the body into an event, or fails as told.
type echoConnector struct{ recvErr error }

func (c *echoConnector) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{Name: "echo", Version: "1.0.0", ABI: pluginsdk.ABIVersion, Roles: []string{pluginsdk.RoleReceive}}
}
func (c *echoConnector) Configure(context.Context, *pluginsdk.Context) error { return nil }
func (c *echoConnector) Receive(_ context.Context, r *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	if c.recvErr != nil {
		return nil, c.recvErr
	}
	var evs []pluginsdk.Event
	for _, line := range strings.Split(string(r.Body), "\n") {
		evs = append(evs, pluginsdk.Event{Payload: json.RawMessage(`{"line":` + strings.TrimSpace(line) + `}`), DedupKey: line})
	}
	return &pluginsdk.ReceiveResult{Events: evs, Response: pluginsdk.HTTPResponse{Status: 200, Header: map[string][]string{"Content-Type": {"text/plain"}}, Body: []byte("stored " + r.Path)}}, nil
}

type silent struct{}

func (silent) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{Name: "silent", Version: "1.0.0", ABI: pluginsdk.ABIVersion}
}
func (silent) Configure(context.Context, *pluginsdk.Context) error { return nil }

func newTestServer(t *testing.T, recvErr error) (*Server, *store.Badger) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	conns := []*config.Connection{{Name: "echo", Connector: "echo", Auth: config.Auth{Type: "none"}}, {Name: "quiet", Connector: "silent"}}
	m, err := connector.NewManager(ctx, connector.ManagerOptions{
		Connections: conns, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Open: func(_ context.Context, c *config.Connection) (connector.Opened, error) {
			if c.Connector == "silent" {
				return connector.Opened{Connector: silent{}}, nil
			}
			return connector.Opened{Connector: &echoConnector{recvErr: recvErr}}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := connector.NewResolver(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := workflow.New(workflow.Options{Store: st, Resolver: r})
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Store: st, Connections: m, Engine: e, AdminTokenHash: sha256.Sum256([]byte("tok")), MaxBodyBytes: 64, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		APIs: APIs{Workflows: &workflowapi.API{Bundle: &config.Bundle{}, Engine: e, Store: st}}}), st
}

func do(t *testing.T, s *Server, method, path, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	resp, err := s.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHookStoresThenAnswers(t *testing.T) {
	s, st := newTestServer(t, nil)
	code, body := do(t, s, "POST", "/hooks/echo/v1/batch", "1\n2")
	if code != 200 || body != "stored /v1/batch" {
		t.Fatalf("got %d %q", code, body)
	}
	if st.Log().LastSeq() != 2 {
		t.Fatalf("log has %d events, want 2", st.Log().LastSeq())
	}
	// A redelivery inside the dedup window is answered the same way but not stored again.
	do(t, s, "POST", "/hooks/echo", "1")
	if st.Log().LastSeq() != 2 {
		t.Errorf("duplicate stored: log has %d events", st.Log().LastSeq())
	}
}

func TestHookErrors(t *testing.T) {
	tests := []struct {
		name      string
		recvErr   error
		path      string
		body      string
		code      int
		want      string
		notInBody string
	}{
		{"unknown connection hides names", nil, "/hooks/nope", "1", 404, "unknown_connection", "echo"},
		{"connection without receive", nil, "/hooks/quiet", "1", 404, "not_inbound", ""},
		{"connector rejects input", pluginsdk.BadRequest("line 3: bad"), "/hooks/echo", "1", 400, "line 3: bad", ""},
		{"connector rejects auth", pluginsdk.Unauthorized("bad key"), "/hooks/echo", "1", 401, "bad key", ""},
		{"plugin crashed", pluginsdk.Retryable("instance trapped"), "/hooks/echo", "1", 503, "instance trapped", ""},
		{"body over the limit", nil, "/hooks/echo", strings.Repeat("1", 65), 413, "body_too_large", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, st := newTestServer(t, tc.recvErr)
			code, body := do(t, s, "POST", tc.path, tc.body)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("got %d %s, want %d with %q", code, body, tc.code, tc.want)
			}
			if tc.notInBody != "" && strings.Contains(body, tc.notInBody) {
				t.Errorf("body %s reveals %q", body, tc.notInBody)
			}
			if !strings.HasPrefix(body, `{"error":{"code":`) {
				t.Errorf("not the JSON error shape: %s", body)
			}
			if st.Log().LastSeq() != 0 {
				t.Errorf("a refused request stored %d events", st.Log().LastSeq())
			}
		})
	}
}

// TestHookDoesNotAckWhatItCouldNotStore closes the store under the server:
// the caller must get a 503 to retry, never the connector's success answer.
func TestHookDoesNotAckWhatItCouldNotStore(t *testing.T) {
	s, st := newTestServer(t, nil)
	st.Close()
	code, body := do(t, s, "POST", "/hooks/echo", "1")
	if code != 503 || !strings.Contains(body, "store_unavailable") || strings.Contains(body, "stored /") {
		t.Fatalf("got %d %s, want 503 store_unavailable", code, body)
	}
}

func TestAPINeedsToken(t *testing.T) {
	s, _ := newTestServer(t, nil)
	for _, auth := range []string{"", "Bearer", "Bearer wrong", "Basic dG9r"} {
		req := httptest.NewRequest("GET", "/api/v1/runs", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, _ := s.App().Test(req, -1)
		if resp.StatusCode != 401 {
			t.Errorf("Authorization %q: %d, want 401", auth, resp.StatusCode)
		}
	}
	req := httptest.NewRequest("GET", "/api/v1/runs?status=bogus", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, _ := s.App().Test(req, -1)
	if resp.StatusCode != 400 {
		t.Errorf("bad status filter: %d, want 400", resp.StatusCode)
	}
}
