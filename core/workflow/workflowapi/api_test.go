package workflowapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/core/workflow"
)

const bundleYAML = `apiVersion: junction/v1
kind: Connection
metadata: {name: in}
spec: {connector: webhook}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: out}
spec: {connector: webhook}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: orders}
spec:
  description: Orders to the sink
  trigger: {connection: in}
  tasks:
    - name: send
      uses: out.send
      with: {id: "{{ .event.payload.id }}"}
`

// echo answers every task with its input.
type echo struct{}

func (echo) Resolve(string) (task.Executor, error) {
	return task.ExecutorFunc(func(_ context.Context, c *task.Call) (json.RawMessage, error) {
		return c.Input, nil
	}), nil
}

type fixture struct {
	app *fiber.App
	st  *store.Badger
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "wf.yaml")
	if err := os.WriteFile(path, []byte(bundleYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := config.Load([]string{path}, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e, err := workflow.New(workflow.Options{Store: st, Workflows: b.Workflows, Resolver: echo{}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	app := fiber.New()
	(&API{Bundle: b, Engine: e, Store: st}).Routes(app.Group("/api/v1"))
	return &fixture{app: app, st: st}
}

func (f *fixture) call(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	resp, err := f.app.Test(httptest.NewRequest(method, path, strings.NewReader(body)), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s: %v in %s", method, path, err, data)
	}
	return resp.StatusCode, out
}

// errCode is the code of the API's error shape, or "".
func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// TestRoutes walks the routes in order over one store: a dead-lettered
// run is listed, read, and replayed.
func TestRoutes(t *testing.T) {
	f := newFixture(t)
	dead := &store.Run{ID: "run_dead", Workflow: "orders", Connection: "in", Status: store.StatusFailed, DeadLetter: true,
		Input: json.RawMessage(`{"id":"D-1"}`), CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	if err := f.st.Runs().Create(context.Background(), []*store.Run{dead}, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path, body string
		status             int
		errCode            string
		check              func(t *testing.T, body map[string]any)
	}{
		{"GET", "/api/v1/workflows", "", 200, "", func(t *testing.T, b map[string]any) {
			wfs, _ := b["workflows"].([]any)
			if len(wfs) != 1 {
				t.Fatalf("workflows %v", b)
			}
			w := wfs[0].(map[string]any)
			if w["name"] != "orders" || w["description"] != "Orders to the sink" || w["trigger"].(map[string]any)["connection"] != "in" {
				t.Errorf("workflow %v", w)
			}
			if tasks, _ := w["tasks"].([]any); len(tasks) != 1 || tasks[0] != "send (out.send)" {
				t.Errorf("tasks %v", w["tasks"])
			}
		}},
		{"GET", "/api/v1/workflows/orders", "", 200, "", func(t *testing.T, b map[string]any) {
			if y, _ := b["yaml"].(string); !strings.Contains(y, "uses: out.send") {
				t.Errorf("yaml %q", b["yaml"])
			}
		}},
		{"GET", "/api/v1/workflows/nope", "", 404, "not_found", nil},
		{"POST", "/api/v1/workflows/orders/run", "{not json", 400, "invalid_json", nil},
		{"POST", "/api/v1/workflows/nope/run", `{"id":"A"}`, 404, "not_found", nil},
		{"POST", "/api/v1/workflows/orders/run?dryRun=maybe", `{"id":"A"}`, 400, "invalid_dry_run", nil},
		{"POST", "/api/v1/workflows/nope/run?dryRun=true", `{"id":"A"}`, 404, "not_found", nil},
		{"POST", "/api/v1/workflows/orders/run?dryRun=true", `{"payload":{"id":"A"}}`, 200, "", func(t *testing.T, b map[string]any) {
			d := b["dryRun"].(map[string]any)
			tasks, _ := d["tasks"].([]any)
			if d["dryRun"] != true || d["matched"] != true || len(tasks) != 1 || b["run"] != nil {
				t.Fatalf("dry run %v", b)
			}
			task := tasks[0].(map[string]any)
			if task["status"] != "rendered" || task["input"].(map[string]any)["id"] != "A" {
				t.Errorf("task %v", task)
			}
		}},
		// The dry run stored no run: only the dead-lettered one is there.
		{"GET", "/api/v1/runs", "", 200, "", func(t *testing.T, b map[string]any) {
			if runs, _ := b["runs"].([]any); len(runs) != 1 {
				t.Errorf("runs after a dry run %v, want only run_dead", b["runs"])
			}
		}},
		{"POST", "/api/v1/workflows/orders/run", `{"id":"A"}`, 200, "", func(t *testing.T, b map[string]any) {
			r := b["run"].(map[string]any)
			if r["status"] != store.StatusCompleted || r["test"] != true {
				t.Errorf("run %v", r)
			}
		}},
		{"GET", "/api/v1/runs?status=bogus", "", 400, "invalid_status", nil},
		{"GET", "/api/v1/runs?limit=501", "", 400, "invalid_limit", nil},
		{"GET", "/api/v1/runs?since=yesterday", "", 400, "invalid_since", nil},
		{"GET", "/api/v1/runs?status=completed&since=24h", "", 200, "", func(t *testing.T, b map[string]any) {
			if runs, _ := b["runs"].([]any); len(runs) != 1 {
				t.Errorf("runs %v, want the test run", b["runs"])
			}
		}},
		{"GET", "/api/v1/runs/run_dead", "", 200, "", func(t *testing.T, b map[string]any) {
			if r := b["run"].(map[string]any); r["id"] != "run_dead" || r["deadLetter"] != true {
				t.Errorf("run %v", r)
			}
		}},
		{"GET", "/api/v1/runs/run_nope", "", 404, "not_found", nil},
		{"POST", "/api/v1/runs/run_nope/replay", "", 404, "not_found", nil},
		{"GET", "/api/v1/dead-letters", "", 200, "", func(t *testing.T, b map[string]any) {
			if runs, _ := b["runs"].([]any); len(runs) != 1 || runs[0].(map[string]any)["id"] != "run_dead" {
				t.Errorf("dead letters %v", b["runs"])
			}
		}},
		{"POST", "/api/v1/dead-letters/replay", "", 202, "", func(t *testing.T, b map[string]any) {
			if b["replayed"] != 1.0 || len(b["runs"].([]any)) != 1 {
				t.Errorf("replay %v", b)
			}
		}},
		{"GET", "/api/v1/dead-letters", "", 200, "", func(t *testing.T, b map[string]any) {
			if runs, _ := b["runs"].([]any); len(runs) != 0 {
				t.Errorf("dead letters after the replay %v", b["runs"])
			}
		}},
		{"POST", "/api/v1/runs/run_dead/replay", "", 202, "", func(t *testing.T, b map[string]any) {
			if r := b["run"].(map[string]any); r["replayOf"] != "run_dead" {
				t.Errorf("run %v", r)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			status, body := f.call(t, tt.method, tt.path, tt.body)
			if status != tt.status || errCode(body) != tt.errCode {
				t.Fatalf("got %d %v, want %d %q", status, body, tt.status, tt.errCode)
			}
			if tt.errCode != "" {
				if e := body["error"].(map[string]any); e["message"] == "" {
					t.Errorf("error without a message: %v", body)
				}
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"2026-01-02T15:04:05Z", time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC), false},
		{"24h", now.Add(-24 * time.Hour), false},
		{"90m", now.Add(-90 * time.Minute), false},
		{"-1h", time.Time{}, true},
		{"0s", time.Time{}, true},
		{"yesterday", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSince(tt.in, now)
			if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
				t.Fatalf("parseSince(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
