package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/schedule"
	"github.com/junctionhub/junction/core/store"
)

// versionKey is the KV key of the running configuration's version.
const versionKey = "config/version"

// reloader swaps the running configuration (hot reload: `junction apply`
// and SIGHUP). Apply validates the whole new set exactly as a start does,
// then checks what only a restart can change, then opens the new and
// changed connections; only when all of that passed does it switch, in the
// order that keeps every event on one coherent set (see connector/apply.go
// and workflow/defs.go).
type reloader struct {
	h    *Hub
	dirs *directory.Service
	// start is the configuration the hub was started with: Settings and
	// the listener's client CAs change only at a restart.
	start *config.Bundle

	mu      sync.Mutex // one apply at a time
	closed  bool       // under mu: the hub is shutting down
	bundle  atomic.Pointer[config.Bundle]
	version atomic.Pointer[config.Version]
	// appliers are told each applied configuration, after the swap and
	// under mu. This is the hook for kinds whose subsystem lives outside
	// this file: when `kind: Alert` exists, Open appends the alert
	// engine's Replace here. A subsystem that can refuse a configuration
	// must check it in config.LoadSources (validation), not here: by now
	// the rest of the set is in.
	appliers []func(ctx context.Context, b *config.Bundle) error
}

// newReloader records the version of the configuration loaded at start:
// the stored counter when the files are those of the stored version, the
// next one otherwise. It comes right after the store, before the engine,
// whose runs record the version.
func newReloader(ctx context.Context, kv store.KV, b *config.Bundle, digest string, now time.Time) (*reloader, error) {
	r := &reloader{start: b}
	r.bundle.Store(b)
	prev, err := loadVersion(ctx, kv)
	if err != nil {
		return nil, err
	}
	v := config.Version{Counter: prev.Counter + 1, Digest: digest, AppliedAt: now.UTC(), How: config.AppliedAtStart, Files: b.Files}
	if prev.Digest == digest {
		v = *prev
		v.Files = b.Files
	} else if err := saveVersion(ctx, kv, v); err != nil {
		return nil, err
	}
	r.version.Store(&v)
	return r, nil
}

func loadVersion(ctx context.Context, kv store.KV) (*config.Version, error) {
	raw, err := kv.Get(ctx, versionKey)
	if errors.Is(err, store.ErrNotFound) {
		return &config.Version{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load config version: %w", err)
	}
	var v config.Version
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("load config version: %w", err)
	}
	return &v, nil
}

func saveVersion(ctx context.Context, kv store.KV, v config.Version) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("save config version: %w", err)
	}
	if err := kv.Set(ctx, versionKey, raw, 0); err != nil {
		return fmt.Errorf("save config version: %w", err)
	}
	return nil
}

// Version implements configapi.Reloader.
func (r *reloader) Version() config.Version { return *r.version.Load() }

// Bundle is the configuration running now.
func (r *reloader) Bundle() *config.Bundle { return r.bundle.Load() }

// Apply implements configapi.Reloader.
func (r *reloader) Apply(ctx context.Context, srcs []config.Source, how string) (*config.ApplyResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errors.New("the hub is shutting down")
	}
	h := r.h
	cur := r.version.Load()
	digest := config.Digest(srcs)
	if digest == cur.Digest {
		return &config.ApplyResult{Version: *cur, Unchanged: true}, nil
	}
	b, err := config.LoadSources(srcs, config.Options{LookupEnv: h.o.LookupEnv, Check: h.Plugins.Checker()})
	if err != nil {
		return nil, err
	}
	if errs := r.needsRestart(b); len(errs) > 0 {
		return nil, errs
	}
	wants := schedule.Wants(b.Connections, h.Fetch, b.Workflows, scheduledStarter{h.Engine})
	if errs := checkSchedules(wants, b.Settings.Timezone); len(errs) > 0 {
		return nil, errs
	}
	resolver, err := newResolver(r.start.Settings, b, h.Store, h.Conns, r.dirs, h.log)
	if err != nil {
		return nil, err
	}
	plan, err := h.Conns.Prepare(ctx, b.Connections)
	if err != nil {
		return nil, err
	}
	// Everything is checked and opened: from here on the new set goes in.
	old := r.bundle.Load()
	next := config.Version{Counter: cur.Counter + 1, Digest: digest, AppliedAt: time.Now().UTC(), How: how, Files: b.Files}
	r.dirs.Replace(b.Directories)
	plan.Retire()
	if err := h.Engine.Replace(next.Counter, b.Workflows, resolver); err != nil {
		// Only a counter that went backwards gets here; the connections
		// are committed anyway, so that the hub keeps one consistent set.
		h.log.Error("config apply: replace workflows", "err", err)
	}
	plan.Commit()
	if err := h.Sched.Sync(ctx, wants); err != nil {
		h.log.Error("config apply: schedules", "err", err)
	}
	for _, name := range plan.Added {
		h.Stats.Connected(name, next.AppliedAt)
	}
	r.bundle.Store(b)
	r.version.Store(&next)
	for _, f := range r.appliers {
		if err := f(ctx, b); err != nil {
			h.log.Error("config apply", "err", err)
		}
	}
	if err := saveVersion(context.WithoutCancel(ctx), h.Store.KV(), next); err != nil {
		h.log.Error("config apply", "err", err)
	}
	res := &config.ApplyResult{
		Version:     next,
		Connections: config.Changes{Added: plan.Added, Changed: plan.Changed, Removed: plan.Removed},
		// A workflow is compared by its document's text: its compiled
		// filter and templates hold functions.
		Workflows: diffDocs(old.Workflows, b.Workflows, func(w *config.Workflow) string { return w.Name },
			func(a, b *config.Workflow) bool { return string(a.YAML) == string(b.YAML) }),
		Directories: diffDocs(old.Directories, b.Directories, func(d *config.Directory) string { return d.Name }, config.SameDoc[config.Directory]),
		Surveys:     diffDocs(old.Surveys, b.Surveys, func(s *config.Survey) string { return s.Name }, config.SameDoc[config.Survey]),
	}
	for _, w := range b.Warnings {
		res.Warnings = append(res.Warnings, w.Error())
	}
	h.log.Info("configuration applied", "config_version", next.Counter, "how", how, "digest", next.Digest[:12],
		"connections", res.Connections, "workflows", res.Workflows)
	return res, nil
}

// needsRestart refuses what a running hub cannot take: Settings (the
// listener, the store, the workers and the memory limit are made from
// them at start) and a change of the client CAs the TLS listener asks
// for. Each is reported at its YAML node.
func (r *reloader) needsRestart(b *config.Bundle) config.Errors {
	var errs config.Errors
	at := b.Settings.Pos
	if at.File == "" && len(b.Files) > 0 {
		at = config.Pos{File: b.Files[0], Line: 1, Col: 1}
	}
	for _, key := range config.SettingsChanges(r.start.Settings, b.Settings) {
		errs = append(errs, &config.Error{Pos: at, Msg: fmt.Sprintf(
			"Settings %s changed: Settings take effect only at a restart, and apply refuses them; restart junction with these files, or apply them with Settings as running", key)})
	}
	if r.start.Settings.TLS != nil && !slices.Equal(clientCAs(r.start.Connections), clientCAs(b.Connections)) {
		for _, c := range b.Connections {
			if c.Inbound != nil && c.Inbound.ClientCA != "" {
				errs = append(errs, &config.Error{Pos: c.Inbound.ClientCAPos, Msg: fmt.Sprintf(
					"connection %s: inbound.client_ca: the set of client CAs the TLS listener asks for changed; it takes effect only at a restart", c.Name)})
			}
		}
		if len(errs) == 0 {
			errs = append(errs, &config.Error{Pos: at, Msg: "a connection's inbound.client_ca was removed: the set of client CAs the TLS listener asks for takes effect only at a restart"})
		}
	}
	return errs
}

// clientCAs are the raw certificates of every connection's client_ca,
// sorted, as NewTLSConfig pools them.
func clientCAs(conns []*config.Connection) []string {
	var out []string
	for _, c := range conns {
		if c.Inbound == nil {
			continue
		}
		for _, ca := range c.Inbound.ClientCACerts {
			out = append(out, string(ca.Raw))
		}
	}
	slices.Sort(out)
	return out
}

func checkSchedules(wants []schedule.Want, tz string) config.Errors {
	var errs config.Errors
	for _, w := range wants {
		if _, err := schedule.NewSpec(w.Sched, tz); err != nil {
			errs = append(errs, &config.Error{Pos: w.Sched.Pos, Msg: fmt.Sprintf("schedule %s: %v", w.Key, err)})
		}
	}
	return errs
}

// diffDocs names the documents of one kind that b adds, changes or removes
// relative to a.
func diffDocs[T any](a, b []*T, name func(*T) string, same func(a, b *T) bool) config.Changes {
	var ch config.Changes
	before := map[string]*T{}
	for _, d := range a {
		before[name(d)] = d
	}
	for _, d := range b {
		n := name(d)
		switch old, ok := before[n]; {
		case !ok:
			ch.Added = append(ch.Added, n)
		case !same(old, d):
			ch.Changed = append(ch.Changed, n)
		}
		delete(before, n)
	}
	for n := range before {
		ch.Removed = append(ch.Removed, n)
	}
	slices.Sort(ch.Added)
	slices.Sort(ch.Changed)
	slices.Sort(ch.Removed)
	return ch
}

// Reload reads the hub's --config paths from disk again and applies them
// (SIGHUP).
func (h *Hub) Reload(ctx context.Context) (*config.ApplyResult, error) {
	srcs, err := config.ReadSources(h.o.ConfigPaths)
	if err != nil {
		return nil, err
	}
	return h.reload.Apply(ctx, srcs, config.AppliedBySIGHUP)
}

// ConfigVersion is the version of the configuration running now.
func (h *Hub) ConfigVersion() config.Version { return h.reload.Version() }

// CurrentBundle is the configuration running now: Bundle as loaded at
// start, or as applied since.
func (h *Hub) CurrentBundle() *config.Bundle { return h.reload.Bundle() }

// close waits for an apply in progress and refuses later ones: Close
// tears down what an apply would change.
func (r *reloader) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
}
