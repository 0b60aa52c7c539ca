package workflow

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
)

// reloaded is testWorkflows after an edit: orders reads its id from $.ref
// and labels its second task differently, and a new workflow, audit, is
// triggered by the same connection.
var reloaded = strings.NewReplacer(
	`id: {path: $.id, type: string}`, `id: {path: $.ref, type: string}`,
	`label: "order {{ .fields.id }}"`, `label: "v2 {{ .fields.id }}"`,
).Replace(testWorkflows) + `---
apiVersion: junction/v1
kind: Workflow
metadata: {name: audit}
spec:
  trigger: {connection: in}
  filter:
    - {path: $.kind, op: eq, value: order}
  tasks:
    - {name: first, uses: out.first}
`

func loadWorkflows(t *testing.T, yaml string) []*config.Workflow {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wf.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := config.Load([]string{path}, config.Options{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return b.Workflows
}

func TestReplaceKeepsInFlightRunsOnTheirVersion(t *testing.T) {
	f := newFixture(t)
	f.actions.block = make(chan struct{})
	e, err := New(Options{Store: f.st, Workflows: f.wfs, Resolver: f.actions, Workers: 2, ConfigVersion: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)

	// A's run reaches its second task on version 1 and waits there.
	f.append(t, `{"kind":"order","id":"A","ref":"RA","total":1}`)
	deadline := time.Now().Add(15 * time.Second)
	for f.actions.callCount("second") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the first run never reached its second task")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := e.Replace(1, loadWorkflows(t, reloaded), f.actions); err == nil {
		t.Fatal("Replace accepted a version that is not newer")
	}
	if err := e.Replace(2, loadWorkflows(t, reloaded), f.actions); err != nil {
		t.Fatal(err)
	}
	if got := e.ConfigVersion(); got != 2 {
		t.Fatalf("ConfigVersion = %d, want 2", got)
	}
	if wf, _ := e.Workflow("orders"); !strings.Contains(string(wf.YAML), "$.ref") {
		t.Errorf("Workflow(orders) is not the new definition:\n%s", wf.YAML)
	}
	f.append(t, `{"kind":"order","id":"B","ref":"RB","total":2}`)
	close(f.actions.block)

	runs := waitRuns(t, f, store.RunFilter{Status: store.StatusCompleted}, 3)
	byKey := map[string]*store.Run{}
	for _, r := range runs {
		byKey[r.Workflow+"/"+string(r.Input)[:30]] = r
	}
	for _, tc := range []struct {
		workflow, input string
		version         uint64
		id, label       string
	}{
		// Logged before the reload: version 1 from start to end, although
		// its second task ran after the reload.
		{"orders", `{"kind":"order","id":"A","ref"`, 1, "A", "order A"},
		// Logged after: version 2's mapping and template.
		{"orders", `{"kind":"order","id":"B","ref"`, 2, "RB", "v2 RB"},
		// The new workflow starts at the log's end: B only, never A.
		{"audit", `{"kind":"order","id":"B","ref"`, 2, "", ""},
	} {
		r := byKey[tc.workflow+"/"+tc.input]
		if r == nil {
			t.Errorf("no completed %s run for %s; have %v", tc.workflow, tc.input, keys(byKey))
			continue
		}
		if r.ConfigVersion != tc.version {
			t.Errorf("%s run for %s: configVersion %d, want %d", tc.workflow, tc.input, r.ConfigVersion, tc.version)
		}
		if tc.label == "" {
			continue
		}
		var second map[string]any
		json.Unmarshal(r.Tasks[1].Input, &second)
		if r.Fields["id"] != tc.id || second["label"] != tc.label {
			t.Errorf("%s run for %s: id %v, label %v; want %s, %s", tc.workflow, tc.input, r.Fields["id"], second["label"], tc.id, tc.label)
		}
	}
	// Version 1 is dropped once its last run finished.
	deadline = time.Now().Add(15 * time.Second)
	for !slices.Equal(e.HeldVersions(), []uint64{2}) {
		if time.Now().After(deadline) {
			t.Fatalf("held versions = %v, want [2]", e.HeldVersions())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func keys(m map[string]*store.Run) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A run left unfinished by an older process, whose version is gone, resumes
// on the current definition only when its tasks are the same.
func TestRunOfAVersionNoLongerHeld(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC()
	mk := func(id string, tasks ...string) *store.Run {
		r := &store.Run{ID: id, Workflow: "orders", ConfigVersion: 3, Status: store.StatusQueued,
			Input: json.RawMessage(`{"kind":"order","id":"A","total":1}`), Fields: map[string]any{"id": "A", "total": 1.0},
			CreatedAt: now, UpdatedAt: now}
		for _, n := range tasks {
			r.Tasks = append(r.Tasks, store.TaskRun{Name: n, Uses: "out." + n, Status: store.StatusQueued})
		}
		return r
	}
	if err := f.st.Runs().Create(ctx, []*store.Run{mk("run_same", "first", "second"), mk("run_changed", "first")}, nil); err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Store: f.st, Workflows: f.wfs, Resolver: f.actions, Workers: 2, ConfigVersion: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	waitRuns(t, f, store.RunFilter{Status: store.StatusCompleted}, 1)
	failed := waitRuns(t, f, store.RunFilter{Status: store.StatusFailed}, 1)
	if failed[0].ID != "run_changed" || !strings.Contains(failed[0].Error, "changed since this run was created (config version 3; now 4)") {
		t.Errorf("failed run %s: %q", failed[0].ID, failed[0].Error)
	}
}
