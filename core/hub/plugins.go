package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/names"
	"github.com/junctionhub/junction/core/plugin/gopluginhost"
	"github.com/junctionhub/junction/core/plugin/registry"
	"github.com/junctionhub/junction/core/plugin/wasmhost"
	"github.com/junctionhub/junction/core/task"
)

// PluginOptions configures the hub's view of connectors.
type PluginOptions struct {
	DataDir string
	// Dirs hold bundled plugin sources (dirs/*/junction-plugin.yaml).
	Dirs []string
	// Build builds bundled plugins whose installed artifact is missing or
	// older than their sources (`junction up`).
	Build    bool
	Progress io.Writer
	Logger   *slog.Logger
	Settings config.Settings
}

// Plugins opens the connector of each connection: a builtin, or an
// installed plugin run under wazero (Wasm) or as a go-plugin process.
type Plugins struct {
	o   PluginOptions
	reg *registry.Registry

	mu      sync.Mutex
	runtime *wasmhost.Runtime
	modules map[string]*wasmhost.Module // by name@version/form: compiled once, shared by connections
}

// OpenPlugins opens the plugin registry in the data dir and, when asked,
// builds the bundled plugins that need it.
func OpenPlugins(ctx context.Context, o PluginOptions) (*Plugins, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	reg, err := registry.Open(o.DataDir)
	if err != nil {
		return nil, err
	}
	p := &Plugins{o: o, reg: reg, modules: map[string]*wasmhost.Module{}}
	refuseTaken(reg, o.Logger)
	if o.Build {
		if _, err := reg.EnsureBundled(ctx, o.Dirs, o.Progress); err != nil {
			// A plugin that failed to build fails only the connections that
			// use it, with this error, when they are opened.
			o.Logger.Warn("bundled plugins", "err", err)
		}
	}
	return p, nil
}

// Registry is the plugin registry (the console and API list it).
func (p *Plugins) Registry() *registry.Registry { return p.reg }

// Open implements connector.Opener.
func (p *Plugins) Open(ctx context.Context, c *config.Connection) (connector.Opened, error) {
	if _, ok := connector.LookupBuiltin(c.Connector); ok {
		return connector.OpenBuiltin(ctx, c)
	}
	pl, err := p.reg.Resolve(c.Connector)
	if errors.Is(err, names.ErrTaken) {
		return connector.Opened{}, err
	}
	if err != nil {
		return connector.Opened{}, fmt.Errorf("connector %q is neither a builtin (%s) nor an installed plugin: %w (install it with junction plugin install DIR/dist, or see junction plugin list)",
			c.Connector, builtinNames(), err)
	}
	grants := &connector.Grants{Plugin: pl.Ref(), HTTPHosts: pl.Granted.HTTPHosts, KV: pl.Granted.KV}
	log := p.o.Logger.With("connection", c.Name, "plugin", pl.ID())
	switch pl.Manifest.Kind {
	case registry.KindWasm:
		m, err := p.module(ctx, pl)
		if err != nil {
			return connector.Opened{}, err
		}
		wc := m.NewConnector(wasmhost.PoolOptions{Size: poolSize(c)})
		return connector.Opened{Connector: wc, Closer: ctxCloser(wc.Close), Grants: grants}, nil
	case registry.KindGoPlugin:
		gc, err := gopluginhost.Start(ctx, gopluginhost.Options{Path: pl.ArtifactPath, Logger: log})
		if err != nil {
			return connector.Opened{}, fmt.Errorf("start plugin %s: %w", pl.ID(), err)
		}
		return connector.Opened{Connector: gc, Closer: gc, Grants: grants}, nil
	}
	return connector.Opened{}, fmt.Errorf("plugin %s: unknown kind %q", pl.Ref(), pl.Manifest.Kind)
}

// poolSize is the connection's `config.pool_size` for Wasm plugins (the
// number of instances serving calls at once), default 4.
func poolSize(c *config.Connection) int {
	switch v := c.Config["pool_size"].(type) {
	case int:
		return v
	case float64:
		return int(v)
	}
	return 4
}

// module compiles a Wasm plugin once per version; compiled code is cached on
// disk in the data dir, so a restart instantiates without recompiling.
func (p *Plugins) module(ctx context.Context, pl *registry.Plugin) (*wasmhost.Module, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.modules[pl.ID()]; m != nil {
		return m, nil
	}
	if p.runtime == nil {
		rt, err := wasmhost.NewRuntime(ctx, wasmhost.RuntimeOptions{
			CacheDir: filepath.Join(p.o.DataDir, "wasm-cache"), Logger: p.o.Logger,
		})
		if err != nil {
			return nil, fmt.Errorf("start wasm runtime: %w", err)
		}
		p.runtime = rt
	}
	bin, err := os.ReadFile(pl.ArtifactPath)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", pl.Ref(), err)
	}
	start := time.Now()
	m, err := p.runtime.Compile(ctx, bin)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", pl.Ref(), err)
	}
	p.o.Logger.Debug("wasm plugin compiled", "plugin", pl.Ref(), "took", time.Since(start))
	p.modules[pl.ID()] = m
	return m, nil
}

// Close releases the Wasm runtime (connections close their own pools and
// processes first, in the connection manager).
func (p *Plugins) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.runtime == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.runtime.Close(ctx)
	p.runtime = nil
	return err
}

type ctxCloser func(context.Context) error

func (f ctxCloser) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return f(ctx)
}

func builtinNames() string {
	var names []string
	for _, b := range connector.Builtins() {
		names = append(names, b.Name)
	}
	return strings.Join(names, ", ")
}

// Checker answers config's cross-reference questions.
func (p *Plugins) Checker() config.Checker {
	return checker{reg: p.reg, dirs: p.o.Dirs, dataDir: p.o.DataDir}
}

// StaticChecker answers config's questions without opening a store, for
// `junction validate`: builtins, builtin tasks, the plugins installed in
// dataDir, and the bundled plugin sources in dirs (not built yet, so their
// actions cannot be checked).
func StaticChecker(dataDir string, dirs []string) config.Checker {
	c := checker{dirs: dirs, dataDir: dataDir}
	if _, err := os.Stat(filepath.Join(dataDir, "plugins")); err == nil {
		c.reg = registry.View(dataDir) // validate writes nothing, not even a layout move
	}
	return c
}

type checker struct {
	reg     *registry.Registry // nil: none installed
	dirs    []string
	dataDir string
}

func (c checker) ConnectorKnown(name string) bool {
	if _, ok := connector.LookupBuiltin(name); ok {
		return true
	}
	if c.reg != nil {
		if _, err := c.reg.Resolve(name); err == nil {
			return true
		}
	}
	return c.bundled(name)
}

// bundled reports whether a bundled plugin source declares the reference
// (a `junction up` would build it): its name, its version as the Spec's
// sources declare it (read without building), and the form its manifest
// builds.
func (c checker) bundled(s string) bool {
	ref, err := registry.ParseRef(s)
	if err != nil || names.Taken(ref.Name) != nil {
		return false
	}
	for _, d := range c.dirs {
		mfs, _ := filepath.Glob(filepath.Join(d, "*", registry.ManifestFile))
		for _, mf := range mfs {
			m, err := registry.ReadManifest(filepath.Dir(mf))
			if err != nil || m.Name != ref.Name || (ref.Form != "" && m.Kind != ref.Form) {
				continue
			}
			if ref.Version == "" {
				return true
			}
			v := m.Version
			if v == "" {
				v, _ = registry.SourceVersion(filepath.Dir(mf))
			}
			if v == ref.Version {
				return true
			}
		}
	}
	return false
}

func (c checker) TaskKnown(uses string) bool {
	_, ok := task.Lookup(uses)
	return ok
}

func (c checker) ActionKnown(conn, action string) (bool, bool) {
	if b, ok := connector.LookupBuiltin(conn); ok {
		_, known := b.New().Spec().Action(action)
		return known, true
	}
	if c.reg != nil {
		if pl, err := c.reg.Resolve(conn); err == nil && len(pl.Manifest.Connector.Actions) > 0 {
			return slices.Contains(pl.Manifest.Connector.Actions, action), true
		}
	}
	return false, false
}
