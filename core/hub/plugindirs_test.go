package hub

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/config"
)

func TestResolvePluginDirs(t *testing.T) {
	root := t.TempDir()
	clone := filepath.Join(root, "clone")
	for _, d := range []string{"clone/configs", "clone/plugins", "clone/configs/local", "elsewhere"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	settings := filepath.Join(clone, "configs", "junction.yaml")
	t.Chdir(filepath.Join(root, "elsewhere"))
	tests := []struct {
		name, dir, file, want string
	}{
		{"beside the configs folder", "plugins", settings, filepath.Join(clone, "plugins")},
		{"next to the settings file", "local", settings, filepath.Join(clone, "configs", "local")},
		{"absolute as written", filepath.Join(root, "x"), settings, filepath.Join(root, "x")},
		{"found nowhere: as written", "missing", settings, "missing"},
		{"no settings file", "plugins", "", "plugins"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ResolvePluginDirs([]string{tt.dir}, tt.file); len(got) != 1 || got[0] != tt.want {
				t.Errorf("ResolvePluginDirs(%q, %q) = %v, want %s", tt.dir, tt.file, got, tt.want)
			}
		})
	}
	// The working directory wins, as it always has for `junction up`.
	if err := os.MkdirAll("plugins", 0o755); err != nil {
		t.Fatal(err)
	}
	if got := ResolvePluginDirs([]string{"plugins"}, settings); got[0] != "plugins" {
		t.Errorf("with ./plugins present: got %v, want plugins", got)
	}
}

func TestSettingsCheckerFindsBundledSources(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "clone", "plugins", "ticketing")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := "name: ticketing\nversion: 0.1.0\nkind: wasm\n"
	if err := os.WriteFile(filepath.Join(src, "junction-plugin.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	s := config.DefaultSettings()
	s.Pos.File = filepath.Join(root, "clone", "configs", "junction.yaml")
	s.DataDir = filepath.Join(root, "fresh-data")
	c := SettingsChecker(s, "")
	if !c.ConnectorKnown("ticketing") || !c.ConnectorKnown("ticketing@0.1.0") {
		t.Error("the bundled source beside configs/ is not found")
	}
	if c.ConnectorKnown("ticketing@0.2.0") || c.ConnectorKnown("nope") {
		t.Error("an unknown version or name is known")
	}
	where := c.(config.ConnectorSearcher).SearchedFor("nope")
	for _, w := range []string{filepath.Join(root, "fresh-data", "plugins") + " (installed plugins, does not exist)", filepath.Join(root, "clone", "plugins") + " (plugin sources)"} {
		if !strings.Contains(where, w) {
			t.Errorf("SearchedFor = %q, want it to name %q", where, w)
		}
	}
}
