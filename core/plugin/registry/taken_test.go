package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/names"
	"github.com/junctionhub/junction/core/plugin/registry"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

// Builtins as the binary registers them, from init: a connector and a group
// of tasks whose names no plugin may take. regtest-later is registered by
// TestResolveRefusesAPluginABuiltinNowOwns, after its plugin is installed.
func init() {
	connector.Register(connector.Builtin{Name: "regtest-builtin", New: func() pluginsdk.Connector { return nil }})
	task.Register(task.Def{ID: "regtest-group.do", New: func(*task.Env) (task.Executor, error) {
		return task.ExecutorFunc(func(context.Context, *task.Call) (json.RawMessage, error) { return nil, nil }), nil
	}})
}

// TestInstallRefusesABuiltinsName: `junction plugin install` of a plugin
// named like a builtin connector or a group of builtin tasks fails with a
// message naming the builtin and the fix, whatever form the plugin comes
// in, and installs nothing.
func TestInstallRefusesABuiltinsName(t *testing.T) {
	source := func(t *testing.T, name string) string {
		t.Helper()
		dir := t.TempDir()
		m := &registry.Manifest{Name: name, Version: "1.0.0", Kind: registry.KindWasm}
		if err := registry.WriteManifest(dir, m); err != nil {
			t.Fatal(err)
		}
		// Sources that would not build: the refusal must come first.
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { nope }\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	tests := []struct {
		name, plugin, form string
		by                 string // what the message says holds the name
	}{
		{"a builtin connector, built", "regtest-builtin", "dist", "the builtin connector connector.regtest-builtin (connector: regtest-builtin)"},
		{"a builtin connector, archived", "regtest-builtin", "tar.gz", "the builtin connector connector.regtest-builtin (connector: regtest-builtin)"},
		{"a builtin connector, as source", "regtest-builtin", "source", "the builtin connector connector.regtest-builtin (connector: regtest-builtin)"},
		{"a group of builtin tasks", "regtest-group", "dist", "the builtin tasks task.regtest-group.* (uses: regtest-group.do)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := open(t)
			var path string
			switch tt.form {
			case "dist":
				path = dist(t, tt.plugin, "1.0.0", registry.Capabilities{}, "a binary")
			case "tar.gz":
				path = tarGz(t, dist(t, tt.plugin, "1.0.0", registry.Capabilities{}, "a binary"), "")
			case "source":
				path = source(t, tt.plugin)
			}
			_, err := r.Install(ctx, path, registry.InstallOptions{})
			want := `install plugin ` + path + `: plugin name "` + tt.plugin + `" is taken by ` + tt.by +
				`; a plugin cannot shadow a builtin: rename the plugin (name: in its junction-plugin.yaml and Spec.Name), then the connections that use it`
			if err == nil || err.Error() != want {
				t.Fatalf("Install = %v\nwant %s", err, want)
			}
			if !errors.Is(err, names.ErrTaken) {
				t.Errorf("the error does not wrap names.ErrTaken")
			}
			if n := len(r.List()); n != 0 {
				t.Errorf("%d plugins installed after the refusal", n)
			}
		})
	}
}

// TestResolveRefusesAPluginABuiltinNowOwns: a plugin installed while its
// name was free (by an older Junction, before the builtin existed) is
// refused when it is loaded, with the message Install gives, instead of the
// builtin silently taking its place; it is still listed, so that it can be
// removed.
func TestResolveRefusesAPluginABuiltinNowOwns(t *testing.T) {
	r := open(t)
	if _, err := r.Install(ctx, dist(t, "regtest-later", "1.0.0", registry.Capabilities{}, "a binary"), registry.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve("regtest-later"); err != nil {
		t.Fatalf("before the builtin: %v", err)
	}
	if !names.Registered(names.Connector("regtest-later")) {
		connector.Register(connector.Builtin{Name: "regtest-later", New: func() pluginsdk.Connector { return nil }})
	}
	msg := names.Taken("regtest-later").Error()
	for _, ref := range []string{"regtest-later", "regtest-later@1.0.0"} {
		_, err := r.Resolve(ref)
		if want := "plugin " + ref + " is refused: " + msg; err == nil || err.Error() != want {
			t.Errorf("Resolve(%s) = %v\nwant %s", ref, err, want)
		}
		if !errors.Is(err, names.ErrTaken) {
			t.Errorf("Resolve(%s): the error does not wrap names.ErrTaken", ref)
		}
	}
	if l := r.List(); len(l) != 1 || l[0].Ref() != "regtest-later@1.0.0" {
		t.Fatalf("List = %v, want the refused plugin listed", l)
	}
	if err := r.Remove("regtest-later", "1.0.0"); err != nil {
		t.Fatalf("remove the refused plugin: %v", err)
	}
}

// TestEnsureBundledRefusesABuiltinsName: a bundled source named like a
// builtin is reported, not built, and does not stop the others.
func TestEnsureBundledRefusesABuiltinsName(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "webhookish")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := registry.WriteManifest(src, &registry.Manifest{Name: "regtest-builtin", Version: "1.0.0", Kind: registry.KindWasm}); err != nil {
		t.Fatal(err)
	}
	r := open(t)
	ps, err := r.EnsureBundled(ctx, []string{dir}, nil)
	if err == nil || !strings.Contains(err.Error(), "bundled plugin "+src+": "+names.Taken("regtest-builtin").Error()) {
		t.Fatalf("EnsureBundled = %v, want the refusal", err)
	}
	if len(ps) != 0 || len(r.List()) != 0 {
		t.Errorf("EnsureBundled installed %v", ps)
	}
}
