package hub

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

// PluginOptions configures the hub's view of connectors.
type PluginOptions struct {
	DataDir  string
	Dirs     []string
	Build    bool
	Progress io.Writer
	Logger   *slog.Logger
	Settings config.Settings
}

// Plugins opens connectors for connections: builtins, and installed plugins.
type Plugins struct {
	o PluginOptions
}

// OpenPlugins prepares the plugin runtimes.
func OpenPlugins(_ context.Context, o PluginOptions) (*Plugins, error) {
	return &Plugins{o: o}, nil
}

// Open implements connector.Opener.
func (p *Plugins) Open(ctx context.Context, c *config.Connection) (pluginsdk.Connector, io.Closer, error) {
	if _, ok := connector.LookupBuiltin(c.Connector); ok {
		return connector.OpenBuiltin(ctx, c)
	}
	return nil, nil, fmt.Errorf("connector %q is neither a builtin nor an installed plugin", c.Connector)
}

// Close releases the plugin runtimes.
func (p *Plugins) Close() error { return nil }

// Checker answers config's cross-reference questions.
func (p *Plugins) Checker() config.Checker { return checker{p: p} }

type checker struct{ p *Plugins }

func (c checker) ConnectorKnown(name string) bool {
	_, ok := connector.LookupBuiltin(name)
	return ok
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
	return false, false
}

// StaticChecker answers config's questions without opening a store, for
// `junction validate`: builtins, builtin tasks, and the plugins installed in
// dataDir or bundled in the plugin folders.
func StaticChecker(dataDir string) config.Checker {
	return checker{p: &Plugins{o: PluginOptions{DataDir: dataDir}}}
}
