package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runPlugin runs `junction plugin ARGS...` and returns its stdout.
func runPlugin(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newPluginCmd()
	wrapArgs(cmd)
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

// The whole author-to-operator path: build, keygen, sign, install under
// require_signatures, list, remove.
func TestPluginCommands(t *testing.T) {
	tmp := t.TempDir()
	dist := filepath.Join(tmp, "dist")
	data := filepath.Join(tmp, "data")
	artifact := filepath.Join(dist, "slack")

	out, err := runPlugin(t, "build", "../../../plugins/slack", "--out", artifact)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	if !strings.Contains(out, "built slack@0.1.0 (goplugin)") || !strings.Contains(out, "sha256:") {
		t.Errorf("build output:\n%s", out)
	}

	key := filepath.Join(tmp, "signing.key")
	out, err = runPlugin(t, "keygen", "--out", key)
	if err != nil {
		t.Fatalf("keygen: %v", err)
	}
	pub := strings.TrimSpace(out[strings.LastIndex(out, "\n  ")+1:])

	configs := filepath.Join(tmp, "configs")
	os.MkdirAll(configs, 0o755)
	settings := "apiVersion: junction/v1\nkind: Settings\nmetadata: {name: s}\nspec:\n  data_dir: " + data +
		"\n  trusted_keys: [\"" + pub + "\"]\n  require_signatures: true\n"
	if err := os.WriteFile(filepath.Join(configs, "junction.yaml"), []byte(settings), 0o644); err != nil {
		t.Fatal(err)
	}

	_, err = runPlugin(t, "install", dist, "--config", configs)
	if err == nil || !strings.Contains(err.Error(), "is not signed, and signatures are required") {
		t.Fatalf("unsigned install: err = %v", err)
	}

	if out, err = runPlugin(t, "sign", dist, "--key", key); err != nil {
		t.Fatalf("sign: %v", err)
	}
	out, err = runPlugin(t, "install", dist, "--config", configs)
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	if !strings.Contains(out, "installed slack@0.1.0 (goplugin, signed by "+pub+")") {
		t.Errorf("install output:\n%s", out)
	}

	_, err = runPlugin(t, "install", dist, "--config", configs, "--grant-http", "hooks.slack.com")
	if err == nil || !strings.Contains(err.Error(), `capabilities not granted: http host "*.example.com"`) {
		t.Errorf("install with a narrower grant: err = %v", err)
	}

	out, err = runPlugin(t, "list", "--config", configs)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") ||
		!strings.Contains(lines[1], "slack") || !strings.Contains(lines[1], "goplugin") || !strings.HasSuffix(lines[1], "signed") {
		t.Errorf("list:\n%s", out)
	}

	if _, err := runPlugin(t, "remove", "slack", "--data", data); !isUsage(err) {
		t.Errorf("remove without a version: err = %v, want a usage error", err)
	}
	if out, err = runPlugin(t, "remove", "slack@0.1.0", "--data", data); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if out, _ = runPlugin(t, "list", "--data", data); !strings.Contains(out, "no plugins installed") {
		t.Errorf("list after remove:\n%s", out)
	}
}

func TestPluginSettingsErrors(t *testing.T) {
	configs := t.TempDir()
	bad := "apiVersion: junction/v1\nkind: Settings\nmetadata: {name: s}\nspec:\n  require_signatures: maybe\n"
	if err := os.WriteFile(filepath.Join(configs, "junction.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := runPlugin(t, "list", "--config", configs, "--data", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "read settings") {
		t.Errorf("a broken Settings must stop plugin commands, err = %v", err)
	}
}

func isUsage(err error) bool {
	var ue usageError
	return errors.As(err, &ue)
}
