package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateHonoursSettings: validate looks for plugins where serve
// would, the Settings' data_dir and plugin_dirs, unless --data and
// --plugin-dir say otherwise, and its error names where it looked.
func TestValidateHonoursSettings(t *testing.T) {
	dir := t.TempDir()
	settingsData := filepath.Join(dir, "settings-data")
	file := filepath.Join(dir, "junction.yaml")
	cfg := "apiVersion: junction/v1\nkind: Settings\nspec: {data_dir: " + settingsData + ", plugin_dirs: [srcs]}\n---\n" +
		"apiVersion: junction/v1\nkind: Connection\nmetadata: {name: t}\nspec: {connector: ticketing}\n"
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	flagData := filepath.Join(dir, "flag-data")
	tests := []struct {
		name  string
		flags []string
		want  []string
	}{
		{"from Settings", nil, []string{filepath.Join(settingsData, "plugins") + " (installed plugins, does not exist)", `srcs (plugin sources, not found under the working directory `}},
		{"flags win", []string{"--data", flagData, "--plugin-dir", filepath.Join(dir, "other")}, []string{filepath.Join(flagData, "plugins"), filepath.Join(dir, "other") + " (plugin sources, not found)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRootCmd()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(append([]string{"validate", file}, tt.flags...))
			if err := root.Execute(); err == nil {
				t.Fatal("an unknown connector validated")
			}
			for _, w := range append(tt.want, `unknown connector "ticketing"`) {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if !strings.HasSuffix(out.String(), "\n") {
				t.Errorf("error lines must end with a newline: %q", out.String())
			}
		})
	}

	// A bundled source in the Settings' plugin_dirs, found beside the
	// Settings file although the working directory is elsewhere.
	src := filepath.Join(dir, "srcs", "ticketing")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "junction-plugin.yaml"), []byte("name: ticketing\nversion: 0.1.0\nkind: wasm\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"validate", file})
	if err := root.Execute(); err != nil || !strings.HasPrefix(out.String(), "ok: 1 file(s), 1 connection(s)") {
		t.Fatalf("with the source beside the config: %v\n%s", err, out.String())
	}
}
