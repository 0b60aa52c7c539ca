package connectorapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// fake is a connector with the roles it is given and one secret config key.
type fake struct{ roles []string }

func (f fake) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{Name: "fake", Version: "1.0.0", ABI: pluginsdk.ABIVersion, Roles: f.roles,
		Config: []pluginsdk.Param{{Name: "pin", Type: pluginsdk.TypeSecret}},
		Setup:  []pluginsdk.SetupStep{{Title: "Sender", Text: "{{.URL}} key={{.Secret}} pin={{.Config.pin}}"}}}
}
func (fake) Configure(context.Context, *pluginsdk.Context) error { return nil }

func newApp(t *testing.T, publicURL string) *fiber.App {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	conns := []*config.Connection{
		{Name: "inbox", Connector: "fake", Auth: config.Auth{Type: "api_key", Secret: "s3cret"},
			Config: map[string]any{"pin": "1234", "region": "eu"}},
		{Name: "outbox", Connector: "fake"},
	}
	m, err := connector.NewManager(ctx, connector.ManagerOptions{
		Connections: conns, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Open: func(_ context.Context, c *config.Connection) (connector.Opened, error) {
			if c.Name == "inbox" {
				return connector.Opened{Connector: fake{roles: []string{pluginsdk.RoleReceive}}}, nil
			}
			return connector.Opened{Connector: fake{}}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	(&API{Connections: m, PublicURL: publicURL}).Routes(app.Group("/api/v1"))
	return app
}

type view struct {
	Name      string         `json:"name"`
	Connector string         `json:"connector"`
	Spec      pluginsdk.Spec `json:"spec"`
	Auth      string         `json:"auth"`
	Config    map[string]any `json:"config"`
	HookURL   string         `json:"hookUrl"`
}

func get(t *testing.T, app *fiber.App, path string, out any) int {
	t.Helper()
	resp, err := app.Test(httptest.NewRequest("GET", "http://hub.test"+path, nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, data)
	}
	return resp.StatusCode
}

func TestConnections(t *testing.T) {
	tests := []struct {
		name, publicURL, wantHook string
	}{
		{"public URL", "https://hub.example.org", "https://hub.example.org/hooks/inbox"},
		{"the request's URL", "", "http://hub.test/hooks/inbox"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newApp(t, tt.publicURL)
			var list struct{ Connections []view }
			if code := get(t, app, "/api/v1/connections", &list); code != 200 || len(list.Connections) != 2 {
				t.Fatalf("list: %d %+v", code, list)
			}
			var one struct{ Connection view }
			if code := get(t, app, "/api/v1/connections/inbox", &one); code != 200 {
				t.Fatalf("get: %d", code)
			}
			v := one.Connection
			if v.Name != "inbox" || v.Connector != "fake" || v.Auth != "api_key" || v.Spec.Name != "fake" || v.HookURL != tt.wantHook {
				t.Errorf("connection %+v", v)
			}
			if v.Config["pin"] != connector.Redacted || v.Config["region"] != "eu" {
				t.Errorf("config %v: the secret must be redacted, the rest shown", v.Config)
			}
			// A connection that receives no pushes has no hook URL.
			var out struct{ Connection view }
			if code := get(t, app, "/api/v1/connections/outbox", &out); code != 200 || out.Connection.Name != "outbox" || out.Connection.HookURL != "" {
				t.Errorf("outbox: %d %+v", code, out.Connection)
			}
		})
	}
}

func TestUnknownConnection(t *testing.T) {
	app := newApp(t, "")
	var body struct {
		Error struct{ Code, Message string }
	}
	if code := get(t, app, "/api/v1/connections/nope", &body); code != 404 || body.Error.Code != "not_found" || body.Error.Message == "" {
		t.Fatalf("got %d %+v, want 404 not_found", code, body)
	}
}
