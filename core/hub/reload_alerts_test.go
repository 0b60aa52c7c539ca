package hub

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/junctionhub/junction/builtin/webhook"
	"github.com/junctionhub/junction/core/config"
)

// TestReloadSwapsAlerts: a hot reload adds and removes alerts with the
// rest of the configuration.
func TestReloadSwapsAlerts(t *testing.T) {
	const base = `apiVersion: junction/v1
kind: Settings
spec: {addr: "127.0.0.1:0"}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: ops}
spec:
  connector: webhook
  network: {allow_private: true}
  config: {url: "http://127.0.0.1:9/alerts"}
`
	const alert = `---
apiVersion: junction/v1
kind: Alert
metadata: {name: %s}
spec:
  when: {run_dead_lettered: {window: 1h}}
  notify: {connection: ops}
`
	dir := t.TempDir()
	file := filepath.Join(dir, "hub.yaml")
	if err := os.WriteFile(file, []byte(base+fmt.Sprintf(alert, "first")), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h, err := Open(ctx, Options{
		ConfigPaths: []string{file}, DataDir: filepath.Join(dir, "data"),
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()

	names := func() []string {
		var out []string
		for _, a := range h.Alerts.Status().Alerts {
			out = append(out, a.Name)
		}
		return out
	}
	if got := names(); len(got) != 1 || got[0] != "first" {
		t.Fatalf("alerts at start = %v, want [first]", got)
	}
	srcs := []config.Source{{Name: "hub.yaml", Data: []byte(base + fmt.Sprintf(alert, "second"))}}
	if _, err := h.reload.Apply(ctx, srcs, config.AppliedByAPI); err != nil {
		t.Fatal(err)
	}
	if got := names(); len(got) != 1 || got[0] != "second" {
		t.Fatalf("alerts after apply = %v, want [second]", got)
	}
}
