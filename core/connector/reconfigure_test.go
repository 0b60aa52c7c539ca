package connector_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// recorder is a connector that remembers the auth it was configured with and
// whether it was closed.
type recorder struct {
	mu         sync.Mutex
	secret     string
	closed     bool
	failConfig bool
}

func (r *recorder) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{Name: "recorder", Version: "1.0.0", ABI: pluginsdk.ABIVersion, Roles: []string{pluginsdk.RoleReceive}}
}

func (r *recorder) Configure(_ context.Context, c *pluginsdk.Context) error {
	if r.failConfig {
		return errors.New("refused the new credentials")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = c.Auth.Secret
	return nil
}

func (r *recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return nil
}

func (r *recorder) state() (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.secret, r.closed
}

// fixture opens a manager with one connection "in" whose opener hands out a
// new recorder each time, and whose AuthOverride returns the current value of
// *secret (as a rotated key would).
type fixture struct {
	m        *connector.Manager
	opened   []*recorder
	secret   string
	failNext bool
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{secret: "first"}
	m, err := connector.NewManager(ctx, connector.ManagerOptions{
		Connections: []*config.Connection{{Name: "in", Connector: "recorder", Auth: config.Auth{Type: "api_key", Secret: "yaml"}}},
		Store:       st,
		Open: func(context.Context, *config.Connection) (connector.Opened, error) {
			r := &recorder{failConfig: f.failNext}
			f.opened = append(f.opened, r)
			return connector.Opened{Connector: r, Closer: r}, nil
		},
		AuthOverride: func(_ context.Context, _ *config.Connection, _ pluginsdk.Spec, a pluginsdk.Auth) (pluginsdk.Auth, error) {
			a.Secret = f.secret
			return a, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	return f
}

func TestReconfigure(t *testing.T) {
	tests := []struct {
		name       string
		connection string
		failConfig bool
		wantErr    string
		// wantSecret is what the connection serves with afterwards.
		wantSecret string
	}{
		{name: "new credentials are swapped in", connection: "in", wantSecret: "second"},
		{name: "unknown connection", connection: "nope", wantErr: `connection "nope" is not configured`, wantSecret: "first"},
		{name: "refused credentials keep the old connector", connection: "in", failConfig: true, wantErr: "refused the new credentials", wantSecret: "first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			before, _ := f.m.Get("in")
			f.secret, f.failNext = "second", tt.failConfig

			err := f.m.Reconfigure(context.Background(), tt.connection)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Reconfigure(%q) = %v, want error containing %q", tt.connection, err, tt.wantErr)
			}
			after, ok := f.m.Get("in")
			if !ok {
				t.Fatal("connection in is gone after Reconfigure")
			}
			if got, _ := after.Connector.(*recorder).state(); got != tt.wantSecret {
				t.Errorf("connection serves with secret %q, want %q", got, tt.wantSecret)
			}
			old := before.Connector.(*recorder)
			if tt.wantErr != "" {
				if after != before {
					t.Error("a failed Reconfigure replaced the connection")
				}
			} else if after == before {
				t.Error("Reconfigure kept the old connection")
			}
			// The replaced connector keeps serving calls already in flight:
			// it is closed only after a grace period, or when the manager is.
			if _, closed := old.state(); closed {
				t.Error("the replaced connector was closed at once, under calls that may still use it")
			}
			f.m.Close()
			for i, r := range f.opened {
				if _, closed := r.state(); !closed && !r.failConfig {
					t.Errorf("connector %d was not closed by Manager.Close", i)
				}
			}
		})
	}
}
