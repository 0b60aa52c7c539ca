package hub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/names"
	"github.com/junctionhub/junction/core/plugin/registry"
	"github.com/junctionhub/junction/pluginsdk"
)

// TestPluginABuiltinNowOwnsIsRefused: a plugin installed while its name was
// free, whose name a builtin has since taken, is named in the start-up log
// as refused, and a connection that pins it fails to open with the same
// message, instead of the builtin silently standing in for it.
func TestPluginABuiltinNowOwnsIsRefused(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	reg, err := registry.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	dist := t.TempDir()
	content := []byte("#!/bin/sh\n")
	if err := os.WriteFile(filepath.Join(dist, "hubtest-later"), content, 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	if err := registry.WriteManifest(dist, &registry.Manifest{Name: "hubtest-later", Version: "1.0.0", Kind: registry.KindGoPlugin,
		Artifact: registry.Artifact{File: "hubtest-later", SHA256: hex.EncodeToString(sum[:])}}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Install(ctx, dist, registry.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if !names.Registered(names.Connector("hubtest-later")) {
		connector.Register(connector.Builtin{Name: "hubtest-later", New: func() pluginsdk.Connector { return nil }})
	}
	msg := names.Taken("hubtest-later").Error()

	var logged bytes.Buffer
	p, err := OpenPlugins(ctx, PluginOptions{DataDir: data, Logger: slog.New(slog.NewJSONHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var line struct{ Level, Msg, Plugin, Err string }
	if err := json.Unmarshal(logged.Bytes(), &line); err != nil ||
		line != (struct{ Level, Msg, Plugin, Err string }{"ERROR", "plugin refused", "hubtest-later@1.0.0", msg}) {
		t.Errorf("start-up log (%v):\n%s\nwant the refusal of hubtest-later@1.0.0 with %q", err, logged.String(), msg)
	}

	_, err = p.Open(ctx, &config.Connection{Name: "pinned", Connector: "hubtest-later@1.0.0"})
	if want := "plugin hubtest-later@1.0.0 is refused: " + msg; err == nil || err.Error() != want || !errors.Is(err, names.ErrTaken) {
		t.Errorf("open: err = %v\nwant %s", err, want)
	}
}
