package hostrun

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/plugin/build"
	"github.com/junctionhub/junction/core/plugin/gopluginhost"
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

// goPluginBuilds holds each go-plugin executable built by this test binary,
// by source directory: a build takes seconds, copying the bytes none.
var goPluginBuilds struct {
	mu   sync.Mutex
	bins map[string][]byte
}

// BuildGoPlugin builds the plugin in dir as a go-plugin executable (once per
// test binary) and returns the path of a copy in t's temporary directory.
func BuildGoPlugin(t testing.TB, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	goPluginBuilds.mu.Lock()
	b, ok := goPluginBuilds.bins[abs]
	if !ok {
		out := filepath.Join(t.TempDir(), filepath.Base(abs))
		err := build.Build(context.Background(), build.Options{Dir: abs, Out: out, Target: build.TargetGoPlugin, Progress: plugintest.LogWriter(t)})
		if err == nil {
			b, err = os.ReadFile(out)
		}
		if err != nil {
			goPluginBuilds.mu.Unlock()
			t.Fatal(err)
		}
		if goPluginBuilds.bins == nil {
			goPluginBuilds.bins = map[string][]byte{}
		}
		goPluginBuilds.bins[abs] = b
	}
	goPluginBuilds.mu.Unlock()
	path := filepath.Join(t.TempDir(), filepath.Base(abs))
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// GoPlugin builds the plugin in dir as a go-plugin executable (once per test
// binary) and returns a constructor for Target.New: each call starts a fresh
// plugin process, killed when its test ends.
func GoPlugin(t testing.TB, dir string) func(t *testing.T) pluginsdk.Connector {
	t.Helper()
	path := BuildGoPlugin(t, dir)
	return func(t *testing.T) pluginsdk.Connector {
		t.Helper()
		return StartGoPlugin(t, path)
	}
}

// StartGoPlugin starts the go-plugin executable at path (see BuildGoPlugin)
// the way Junction does; the process is killed when t ends. Warnings and
// errors of the host adapter (restarts, the plugin's stderr) go to t's log.
func StartGoPlugin(t testing.TB, path string) *gopluginhost.Connector {
	t.Helper()
	w := plugintest.LogWriter(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := gopluginhost.Start(ctx, gopluginhost.Options{
		Path:   path,
		Logger: slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
