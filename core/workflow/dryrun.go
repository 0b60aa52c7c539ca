package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/mapping"
	"github.com/junctionhub/junction/core/store"
)

// DryRun is what running a workflow on a payload would send, found without
// sending it: the filter, the fields, and each task's rendered input. No
// task executes and nothing is stored, so a dry run has no run ID and never
// appears in the run history.
type DryRun struct {
	// DryRun is always true, so that a reader of the JSON cannot mistake
	// it for a run.
	DryRun   bool   `json:"dryRun"`
	Workflow string `json:"workflow"`
	// Matched is false when the filter refused the payload; then no task
	// would run and Tasks is empty.
	Matched bool           `json:"matched"`
	Fields  map[string]any `json:"fields"`
	// Error is why the run would fail before its first task (the fields
	// could not be extracted).
	Error string    `json:"error,omitempty"`
	Tasks []DryTask `json:"tasks"`
}

// The states of a DryTask.
const (
	DryRendered    = "rendered"     // Input is what the task would receive
	DryNotRendered = "not_rendered" // it needs an earlier task's output
	DrySkipped     = "skipped"      // its if: rendered false
	DryFailed      = "failed"       // rendering failed, or uses names nothing
)

// DryTask is one task of a DryRun.
type DryTask struct {
	Name   string `json:"name"`
	Uses   string `json:"uses"`
	Status string `json:"status"`
	// Input is the rendered with:, credentials redacted: values under keys
	// that name a credential and values written as ${VAR}.
	Input json.RawMessage `json:"input,omitempty"`
	// DependsOn names the earlier tasks whose output the task's with: or
	// if: reads; such a task cannot be rendered without running them.
	DependsOn []string `json:"dependsOn,omitempty"`
	Note      string   `json:"note,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// DryRun renders workflow's tasks on a test payload without running any.
// It is "run test data" without side effects: the choice for a workflow
// whose tasks call real systems.
func (e *Engine) DryRun(ctx context.Context, workflow string, payload []byte) (*DryRun, error) {
	c, ok := e.defs.current().byName[workflow]
	if !ok {
		return nil, &ErrUnknownWorkflow{Name: workflow}
	}
	doc, err := mapping.Decode(payload)
	if err != nil {
		return nil, fmt.Errorf("test payload: %w", err)
	}
	wf := c.wf
	out := &DryRun{DryRun: true, Workflow: wf.Name, Fields: map[string]any{}, Tasks: []DryTask{}}
	if wf.Compiled.Filter != nil && !wf.Compiled.Filter.Match(doc) {
		out.Error = "the filter did not match this payload: no task would run"
		return out, nil
	}
	out.Matched = true
	if wf.Compiled.Fields != nil {
		fields, err := wf.Compiled.Fields.Apply(doc)
		if err != nil {
			out.Error = "fields: " + err.Error()
			return out, nil
		}
		out.Fields = fields
	}
	// The same data a run's templates see, with no task output yet.
	r := &store.Run{ID: "dry-run", Workflow: wf.Name, Fields: out.Fields}
	data := templateData(r, doc)
	for _, t := range wf.Tasks {
		out.Tasks = append(out.Tasks, dryTask(c, t, data))
	}
	return out, ctx.Err()
}

func dryTask(c *compiled, t config.Task, data map[string]any) DryTask {
	dt := DryTask{Name: t.Name, Uses: t.Uses}
	if deps := dependsOn(c.wf, t); len(deps) > 0 {
		dt.Status, dt.DependsOn = DryNotRendered, deps
		dt.Note = "depends on " + strings.Join(deps, ", ") + " output, not rendered"
		return dt
	}
	if cond := c.wf.Compiled.If[t.Name]; cond != nil {
		v, err := cond.Render(data)
		if err != nil {
			dt.Status, dt.Error = DryFailed, "if: "+err.Error()
			return dt
		}
		if !truthy(v) {
			dt.Status, dt.Note = DrySkipped, "if: is false for this payload: the task would not run"
			return dt
		}
	}
	input := any(map[string]any{})
	if v := c.wf.Compiled.With[t.Name]; v != nil {
		rendered, err := v.Render(data)
		if err != nil {
			dt.Status, dt.Error = DryFailed, "render input: "+err.Error()
			return dt
		}
		input = rendered
	}
	raw, err := marshalPlain(redactInput(&t, nil, "", input))
	if err != nil {
		dt.Status, dt.Error = DryFailed, "encode input: "+err.Error()
		return dt
	}
	dt.Input = raw
	// Resolving looks the action up; it opens and calls nothing.
	if _, err := c.res.Resolve(t.Uses); err != nil {
		dt.Status, dt.Error = DryFailed, err.Error()
		return dt
	}
	dt.Status = DryRendered
	return dt
}

// dependsOn lists the tasks whose output t's templates read, in workflow
// order; a bare .tasks reads them all.
func dependsOn(wf *config.Workflow, t config.Task) []string {
	var refs []mapping.Ref
	if v := wf.Compiled.With[t.Name]; v != nil {
		refs = append(refs, v.References()...)
	}
	if v := wf.Compiled.If[t.Name]; v != nil {
		refs = append(refs, v.References()...)
	}
	var deps []string
	for _, prev := range wf.Tasks {
		if prev.Name == t.Name {
			break
		}
		for _, ref := range refs {
			if ref.Root == "tasks" && (ref.Name == "" || ref.Name == prev.Name) && !slices.Contains(deps, prev.Name) {
				deps = append(deps, prev.Name)
			}
		}
	}
	return deps
}

// redactInput copies v with credentials replaced, by the rules the API
// uses for a connection's config: any key that names a credential, at any
// depth, and any value the workflow file wrote as ${VAR}.
func redactInput(t *config.Task, path []string, key string, v any) any {
	if key != "" && connector.LooksSecret(key) {
		return connector.Redacted
	}
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = redactInput(t, append(path[:len(path):len(path)], k), k, e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = redactInput(t, append(path[:len(path):len(path)], strconv.Itoa(i)), "", e)
		}
		return l
	}
	if len(path) > 0 && t.WithFromEnv(path...) {
		return connector.Redacted
	}
	return v
}

// marshalPlain is json.Marshal without escaping <, > and &, so that
// "<redacted>" and a rendered URL's query read as written.
func marshalPlain(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
