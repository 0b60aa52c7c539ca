package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/plugin/registry"
)

// TestPluginInstallRefusesABuiltinsName: the binary's builtins own their
// names, so `junction plugin install` refuses a plugin called webhook (a
// builtin connector) or directory (the builtin directory.* tasks), says
// which builtin holds the name and what to do, and installs nothing.
func TestPluginInstallRefusesABuiltinsName(t *testing.T) {
	tests := []struct{ plugin, by string }{
		{"webhook", "the builtin connector connector.webhook (connector: webhook)"},
		{"directory", "the builtin tasks task.directory.* (uses: directory.add_to_mailing_list, directory.add_transaction, directory.upsert_contact)"},
	}
	for _, tt := range tests {
		t.Run(tt.plugin, func(t *testing.T) {
			dist, data := t.TempDir(), t.TempDir()
			content := []byte("#!/bin/sh\n")
			if err := os.WriteFile(filepath.Join(dist, tt.plugin), content, 0o755); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(content)
			m := &registry.Manifest{Name: tt.plugin, Version: "1.0.0", Kind: registry.KindGoPlugin,
				Artifact: registry.Artifact{File: tt.plugin, SHA256: hex.EncodeToString(sum[:])}}
			if err := registry.WriteManifest(dist, m); err != nil {
				t.Fatal(err)
			}
			_, err := runPlugin(t, "install", dist, "--data", data)
			want := `plugin name "` + tt.plugin + `" is taken by ` + tt.by + "; a plugin cannot shadow a builtin: rename the plugin"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("install: err = %v\nwant it to say %s", err, want)
			}
			if out, _ := runPlugin(t, "list", "--data", data); !strings.Contains(out, "no plugins installed") {
				t.Errorf("list after the refusal:\n%s", out)
			}
		})
	}
}
