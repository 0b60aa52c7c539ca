package hub

import (
	"context"
	"fmt"
	"os"

	"github.com/junctionhub/junction/core/config"
)

// loadSettings reads the Settings first: they say where the data dir and
// the plugins are, which the full load needs. Options override them.
func loadSettings(o Options) (config.Settings, error) {
	pre, err := config.Load(o.ConfigPaths, config.Options{LookupEnv: o.LookupEnv})
	if err != nil {
		return config.Settings{}, err
	}
	s := pre.Settings
	if o.DataDir != "" {
		s.DataDir = o.DataDir
	}
	if o.Addr != "" {
		s.Addr = o.Addr
	}
	if o.Store != "" {
		if s.Store, err = config.StoreFromFlag(o.Store, s.Store); err != nil {
			return s, err
		}
	}
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return s, fmt.Errorf("create data dir %s: %w", s.DataDir, err)
	}
	return s, nil
}

// openPlugins opens the plugin registry between the two loads: the full
// load's checker asks it which connectors and actions exist.
func openPlugins(ctx context.Context, o Options, s config.Settings) (*Plugins, error) {
	return OpenPlugins(ctx, PluginOptions{
		DataDir: s.DataDir, Dirs: ResolvePluginDirs(s.PluginDirs, s.Pos.File),
		Build: o.BuildPlugins, Progress: o.Out, Logger: o.Logger, Settings: s,
	})
}

// loadBundle loads the whole configuration, its references checked by
// check, and logs its warnings. It also returns the digest of the files
// read, the configuration's version (reload.go).
func loadBundle(o Options, check config.Checker) (*config.Bundle, string, error) {
	srcs, err := config.ReadSources(o.ConfigPaths)
	if err != nil {
		return nil, "", err
	}
	b, err := config.LoadSources(srcs, config.Options{LookupEnv: o.LookupEnv, Check: check})
	if err != nil {
		return nil, "", err
	}
	for _, w := range b.Warnings {
		o.Logger.Warn("config", "warning", w.Error())
	}
	return b, config.Digest(srcs), nil
}
