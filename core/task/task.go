// Package task is the registry of builtin tasks (`uses:
// directory.upsert_contact`, registered as task.directory.upsert_contact in
// core/names) and the interface every task executor implements, builtin or
// connector action.
//
// A builtin task gets what it uses from the hub through the typed fields of
// Env, each a small interface declared here (so core needs no import of
// builtin/, and a task no import of the hub), and lists the services it
// cannot run without in Def.Needs. The registry checks them before New: a
// hub that forgot one fails at start-up, naming the task and the service,
// rather than at the first run. Services are built once by the hub and
// shared; tasks only read Env.
package task

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/names"
)

// Call is one attempt of one task of a run.
type Call struct {
	RunID    string
	Workflow string
	Task     string
	// Input is the task's rendered `with:` block as JSON.
	Input json.RawMessage
	// IdempotencyKey is run ID + "/" + task name: stable across retries and
	// crash recovery, so a target that honours it performs the task once.
	IdempotencyKey string
	Attempt        int
	// Event is the triggering event (nil for schedule-triggered and test runs
	// without one).
	Event *event.Event
}

// Executor performs a task. A *pluginsdk.Error return says whether to retry;
// any other error is treated as retryable (see pluginsdk.AsError).
type Executor interface {
	Execute(ctx context.Context, c *Call) (json.RawMessage, error)
}

// ExecutorFunc adapts a function to Executor.
type ExecutorFunc func(ctx context.Context, c *Call) (json.RawMessage, error)

// Execute calls f.
func (f ExecutorFunc) Execute(ctx context.Context, c *Call) (json.RawMessage, error) {
	return f(ctx, c)
}

// Def is a builtin task kind.
type Def struct {
	// ID is what `uses:` names, e.g. "directory.upsert_contact": a group and
	// a name. The registry's key is task.<ID> (core/names), so a task
	// shares one namespace with the builtin connectors.
	ID          string
	Description string
	// Needs lists the services of Env the task cannot run without. The
	// registry checks them before calling New, so a hub that lacks one
	// fails at start-up with the task and the service named, and New may
	// use them without checking.
	Needs []Service
	// New builds the executor once at start-up.
	New func(env *Env) (Executor, error)
}

var (
	mu   sync.RWMutex
	defs = map[names.ID]Def{}
)

// Register adds a builtin task kind under the ID task.<ID>; call it from
// init. It panics on an empty or malformed ID, one already registered, a nil
// constructor or an unknown service in Needs. The Def that Lookup and All
// return has a New that checks Needs first.
func Register(d Def) {
	if d.ID == "" || d.New == nil {
		panic(fmt.Sprintf("task.Register(%q): empty id or nil constructor", d.ID))
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range d.Needs {
		if _, ok := serviceDocs[s]; !ok {
			panic(fmt.Sprintf("task.Register(%q): needs %q, which is no service of task.Env", d.ID, s))
		}
	}
	names.Register(names.Task(d.ID))
	build := d.New
	d.New = func(env *Env) (Executor, error) {
		if env == nil {
			env = &Env{}
		}
		if err := env.check(d.ID, d.Needs); err != nil {
			return nil, err
		}
		return build(env)
	}
	defs[names.Task(d.ID)] = d
}

// Lookup returns the builtin task kind that `uses: id` names.
func Lookup(id string) (Def, bool) {
	mu.RLock()
	defer mu.RUnlock()
	d, ok := defs[names.Task(id)]
	return d, ok
}

// All lists the registered builtin tasks by ID.
func All() []Def {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Def, 0, len(defs))
	for _, d := range defs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
