package hub

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/lease"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/core/workflow"
)

// newEngine builds the workflow engine and the environment its tasks run
// in. It reports runs and tasks to metrics, finished runs to the alerts
// and the tap (obs), and its lag to metrics once it exists.
func newEngine(s config.Settings, b *config.Bundle, version uint64, st store.Store, conns *connector.Manager, dirs *directory.Service, obs engineObserver, log *slog.Logger) (*workflow.Engine, error) {
	resolver, err := newResolver(s, b, st, conns, dirs, log)
	if err != nil {
		return nil, err
	}
	o := workflow.Options{
		Store: st, Workflows: b.Workflows, Resolver: resolver, Logger: log,
		Workers: s.Workers, Retry: s.Retry, Observer: obs, ConfigVersion: version,
		Node: s.Store.NodeName(),
	}
	if !store.IsSingleProcess(st) {
		// Nodes share the store: one of them dispatches at a time. (On
		// Badger the only process always would.) Runs go through the
		// store's run queue, which the engine finds on st itself.
		o.Leases = lease.New(lease.Options{KV: st.KV(), Owner: s.Store.NodeName(), Logger: log})
	}
	e, err := workflow.New(o)
	if err != nil {
		return nil, err
	}
	obs.ObserveLag(e.Lag)
	return e, nil
}

// newResolver builds the resolver of one configuration's tasks: its
// builtin tasks get that configuration's surveys (a hot reload builds a
// new one; see reload.go), connection actions go through the manager.
func newResolver(s config.Settings, b *config.Bundle, st store.Store, conns *connector.Manager, dirs *directory.Service, log *slog.Logger) (*connector.Resolver, error) {
	tz, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return nil, fmt.Errorf("settings timezone %q: %w", s.Timezone, err)
	}
	env := &task.Env{
		Logger: log, Events: st.Log(), Secrets: st.Secrets(),
		Contacts: dirs, Distributions: dirs, Connections: conns.ForTasks(),
		Location: tz, Surveys: b.Surveys,
	}
	return connector.NewResolver(conns, env)
}
