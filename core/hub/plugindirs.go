package hub

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector/host"
)

// ResolvePluginDirs finds the bundled plugin source folders that Settings
// plugin_dirs names. An absolute entry is taken as written. A relative one
// is looked for, in order, under the working directory (where `junction up`
// is run from a clone), next to the file holding the Settings document,
// and in the folder above that file's folder (a clone keeps configs/ and
// plugins/ side by side); the first that exists wins. So `junction validate
// <clone>/configs` and `junction up --config <clone>/configs` find the
// clone's plugins from any working directory. An entry found nowhere is
// kept as written, so errors can name it.
func ResolvePluginDirs(dirs []string, settingsFile string) []string {
	out := make([]string, 0, len(dirs))
	for _, d := range dirs {
		out = append(out, resolvePluginDir(d, settingsFile))
	}
	return out
}

func resolvePluginDir(d, settingsFile string) string {
	if filepath.IsAbs(d) || isDir(d) {
		return d
	}
	if settingsFile == "" {
		return d
	}
	here := filepath.Dir(settingsFile)
	for _, base := range []string{here, filepath.Dir(here)} {
		if p := filepath.Join(base, d); isDir(p) {
			return p
		}
	}
	return d
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// SettingsChecker is the checker `junction validate` and `workflow apply`
// use: StaticChecker over the data directory and plugin sources that serve
// would use with these Settings (dataDir, when set, overrides data_dir as
// --data does for serve). Unknown-connector errors name where it looked.
func SettingsChecker(s config.Settings, dataDir string) config.Checker {
	if dataDir == "" {
		dataDir = s.DataDir
	}
	return StaticChecker(dataDir, ResolvePluginDirs(s.PluginDirs, s.Pos.File))
}

// SearchedFor implements config.ConnectorSearcher: it says where a
// connector name was looked for, so that an "unknown connector" error
// points at the directory to fix (install into it, or set data_dir or
// plugin_dirs).
func (c checker) SearchedFor(string) string {
	installed := absPath(filepath.Join(c.dataDir, "plugins"))
	state := "installed plugins"
	if c.reg == nil {
		state += ", does not exist"
	}
	where := fmt.Sprintf("%s (%s)", installed, state)
	if len(c.dirs) == 0 {
		return where + "; Settings plugin_dirs names no plugin sources"
	}
	var srcs []string
	for _, d := range c.dirs {
		switch {
		case isDir(d):
			srcs = append(srcs, absPath(d)+" (plugin sources)")
		case filepath.IsAbs(d):
			srcs = append(srcs, d+" (plugin sources, not found)")
		default: // ResolvePluginDirs found it nowhere
			srcs = append(srcs, fmt.Sprintf("%s (plugin sources, not found under the working directory %s, beside the Settings file or in the folder above it)", d, absPath(".")))
		}
	}
	return where + " and " + strings.Join(srcs, ", ")
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// InternalHost implements config.NetworkChecker with the outbound guard's
// own rules.
func (c checker) InternalHost(entry string) string { return host.InternalHost(entry) }
