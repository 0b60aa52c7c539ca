package connector_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// sender is a connector that performs one action; n tells instances apart.
type sender struct{ n int }

func (sender) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{Name: "sender", Version: "1.0.0", ABI: pluginsdk.ABIVersion, Roles: []string{pluginsdk.RolePerform},
		Actions: []pluginsdk.Action{{Name: "send"}}}
}

func (sender) Configure(context.Context, *pluginsdk.Context) error { return nil }

func (s *sender) Perform(context.Context, *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	return &pluginsdk.PerformResult{Output: json.RawMessage(`{}`)}, nil
}

// TestForTasks: the task view of the manager lists every connection by
// name with its connector and performer, and follows Reconfigure.
func TestForTasks(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "", store.Options{InMemory: true, SecretKey: make([]byte, store.SecretKeySize),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var opened []*sender
	m, err := connector.NewManager(ctx, connector.ManagerOptions{
		Connections: []*config.Connection{
			{Name: "out", Connector: "sender"},
			{Name: "in", Connector: "recorder"},
		},
		Store: st,
		Open: func(_ context.Context, c *config.Connection) (connector.Opened, error) {
			if c.Connector == "recorder" {
				return connector.Opened{Connector: &recorder{}}, nil
			}
			s := &sender{n: len(opened)}
			opened = append(opened, s)
			return connector.Opened{Connector: s}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	conns := m.ForTasks()

	all := conns.Connections()
	if len(all) != 2 || all[0].Name != "in" || all[1].Name != "out" {
		t.Fatalf("Connections() = %+v, want in and out, by name", all)
	}
	if in := all[0]; in.Connector != "recorder" || in.Spec.Name != "recorder" || in.Performer != nil {
		t.Errorf("in = %+v, want connector recorder and no performer", in)
	}
	out, ok := conns.Connection("out")
	if !ok || out.Connector != "sender" || out.Performer != opened[0] {
		t.Errorf("Connection(out) = %+v, %v; want the sender opened first", out, ok)
	}
	if c, ok := conns.Connection("nope"); ok {
		t.Errorf("Connection(nope) = %+v, want none", c)
	}

	if err := m.Reconfigure(ctx, "out"); err != nil {
		t.Fatal(err)
	}
	if out, _ := conns.Connection("out"); len(opened) != 2 || out.Performer != opened[1] {
		t.Errorf("after Reconfigure, Connection(out).Performer = %v, want the reopened sender", out.Performer)
	}
}
