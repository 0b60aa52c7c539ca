package server

import (
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/workflow"
)

// TestNoAPIRoutesOfItsOwn: with no APIs set, every /api/v1 path answers
// 404, so each is served by the api package that owns it.
func TestNoAPIRoutesOfItsOwn(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := connector.NewManager(ctx, connector.ManagerOptions{Store: st, Logger: quiet})
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
	s := New(Options{Store: st, Connections: m, Engine: e, AdminTokenHash: sha256.Sum256([]byte("tok")), Logger: quiet})
	for _, p := range []string{
		"GET /workflows", "GET /workflows/w", "POST /workflows/w/run",
		"GET /runs", "GET /runs/r", "POST /runs/r/replay",
		"GET /dead-letters", "POST /dead-letters/replay",
		"GET /connections", "GET /connections/c", "GET /events/e", "GET /status", "GET /alerts",
	} {
		method, path, _ := strings.Cut(p, " ")
		req := httptest.NewRequest(method, "/api/v1"+path, nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := s.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404 when no API serves it", p, resp.StatusCode)
		}
	}
}
