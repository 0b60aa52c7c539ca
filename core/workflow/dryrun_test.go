package workflow

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
)

const dryRunWorkflows = `apiVersion: junction/v1
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
  trigger: {connection: in}
  filter:
    - {path: $.kind, op: eq, value: order}
  fields:
    id: {path: $.id, type: string}
    total: {path: $.total, type: number}
  tasks:
    - name: post
      uses: out.post
      with:
        body: {order: "{{ .fields.id }}", total: "{{ .fields.total }}"}
        headers: {X-Shop: "${SHOP_HEADER}", Authorization: "Bearer abc", Accept: application/json}
    - name: big
      uses: out.post
      if: "{{ gt .fields.total 100.0 }}"
      with: {body: {order: "{{ .fields.id }}"}}
    - name: follow
      uses: out.post
      with: {body: {ref: "{{ .tasks.post.output.id }}"}}
    - name: all
      uses: out.post
      if: "{{ .tasks }}"
    - name: own
      uses: out.post
      with: {body: {label: "order {{ .fields.id }}"}}
`

func TestDryRunRendersAndPerformsNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wf.yaml")
	if err := os.WriteFile(path, []byte(dryRunWorkflows), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(k string) (string, bool) {
		if k == "SHOP_HEADER" {
			return "shop-secret-value", true
		}
		return "", false
	}
	b, err := config.Load([]string{path}, config.Options{LookupEnv: env})
	if err != nil {
		t.Fatalf("load: %s", config.FormatErrors(err))
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	actions := &fakeActions{calls: map[string][]*task.Call{}, script: map[string][]error{}}
	e, err := New(Options{Store: st, Workflows: b.Workflows, Resolver: actions, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	d, err := e.DryRun(ctx, "orders", []byte(`{"kind":"order","id":"A-1","total":"42.5"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !d.DryRun || !d.Matched || d.Error != "" || d.Fields["id"] != "A-1" || d.Fields["total"] != 42.5 {
		t.Errorf("dry run = %+v", d)
	}
	want := []struct {
		name, status, input, note string
	}{
		{"post", DryRendered, `{"body":{"order":"A-1","total":42.5},"headers":{"Accept":"application/json","Authorization":"<redacted>","X-Shop":"<redacted>"}}`, ""},
		{"big", DrySkipped, "", "if: is false for this payload: the task would not run"},
		{"follow", DryNotRendered, "", "depends on post output, not rendered"},
		{"all", DryNotRendered, "", "depends on post, big, follow output, not rendered"},
		{"own", DryRendered, `{"body":{"label":"order A-1"}}`, ""},
	}
	if len(d.Tasks) != len(want) {
		t.Fatalf("tasks = %+v", d.Tasks)
	}
	for i, w := range want {
		got := d.Tasks[i]
		if got.Name != w.name || got.Status != w.status || string(got.Input) != w.input || got.Note != w.note {
			t.Errorf("task %d = %+v (input %s), want %+v", i, got, got.Input, w)
		}
	}

	// Nothing was executed and nothing stored.
	if n := len(actions.calls); n != 0 {
		t.Errorf("actions called: %v", actions.calls)
	}
	runs, _, err := st.Runs().List(ctx, store.RunFilter{})
	if err != nil || len(runs) != 0 {
		t.Errorf("runs stored: %d (%v)", len(runs), err)
	}

	tests := []struct {
		name, payload, wantErr string
		matched                bool
	}{
		{"filter refuses", `{"kind":"refund"}`, "the filter did not match this payload: no task would run", false},
		{"fields fail", `{"kind":"order","id":"B","total":"lots"}`, "fields: ", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := e.DryRun(ctx, "orders", []byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			if d.Matched != tt.matched || len(d.Error) < len(tt.wantErr) || d.Error[:len(tt.wantErr)] != tt.wantErr || len(d.Tasks) != 0 {
				t.Errorf("dry run = %+v", d)
			}
		})
	}
	var unknown *ErrUnknownWorkflow
	if _, err := e.DryRun(ctx, "nope", []byte(`{}`)); !errors.As(err, &unknown) {
		t.Errorf("unknown workflow: err = %v", err)
	}
	if _, err := e.DryRun(ctx, "orders", []byte(`{`)); err == nil {
		t.Error("invalid JSON: no error")
	}
}
