// Package task is the registry of builtin tasks (`uses: directory.upsert_contact`)
// and the interface every task executor implements, builtin or connector action.
package task

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/store"
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

// Env is what a builtin task gets when the hub starts.
type Env struct {
	Store  store.Store
	Logger *slog.Logger
	// Services holds hub-wide services by name (e.g. "directory"), so that a
	// later builtin can depend on another without core importing builtin/.
	Services map[string]any
	// Resources holds the config objects of the kinds a builtin owns
	// (Directory, Survey), by kind.
	Resources map[string]any
}

// Def is a builtin task kind.
type Def struct {
	// ID is what `uses:` names, e.g. "directory.upsert_contact".
	ID          string
	Description string
	// New builds the executor once at start-up.
	New func(env *Env) (Executor, error)
}

var (
	mu   sync.RWMutex
	defs = map[string]Def{}
)

// Register adds a builtin task kind; call it from init. It panics on an empty
// or duplicate ID or a nil constructor.
func Register(d Def) {
	if d.ID == "" || d.New == nil {
		panic(fmt.Sprintf("task.Register(%q): empty id or nil constructor", d.ID))
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := defs[d.ID]; dup {
		panic(fmt.Sprintf("task.Register(%q): already registered", d.ID))
	}
	defs[d.ID] = d
}

// Lookup returns the builtin task kind with the ID.
func Lookup(id string) (Def, bool) {
	mu.RLock()
	defer mu.RUnlock()
	d, ok := defs[id]
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
