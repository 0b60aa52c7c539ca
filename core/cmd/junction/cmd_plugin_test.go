package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
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
	t.Setenv("JUNCTION_ADMIN_TOKEN", "") // list reads the data dir: no hub to ask
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
	if err == nil || !strings.Contains(err.Error(), "is not signed, and signatures are required") ||
		!strings.Contains(err.Error(), "junction plugin sign --key KEY") {
		t.Fatalf("unsigned install: err = %v, want it to name junction plugin sign", err)
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
	if err == nil || !strings.Contains(err.Error(), `capabilities not granted: http host "*.example.com"`) ||
		!strings.Contains(err.Error(), "--grant-http *.example.com --grant-http hooks.slack.com") {
		t.Errorf("install with a narrower grant: err = %v, want it to name the --grant-http flags", err)
	}

	// The same source built as Wasm installs beside the go-plugin form.
	wasmDist := filepath.Join(tmp, "dist-wasm")
	if _, err := runPlugin(t, "build", "../../../plugins/slack", "--target", "wasm", "--out", filepath.Join(wasmDist, "slack.wasm")); err != nil {
		t.Fatalf("build wasm: %v", err)
	}
	if _, err := runPlugin(t, "sign", wasmDist, "--key", key); err != nil {
		t.Fatalf("sign wasm: %v", err)
	}
	if out, err = runPlugin(t, "install", wasmDist, "--config", configs); err != nil || !strings.Contains(out, "installed slack@0.1.0 (wasm, signed") {
		t.Fatalf("install of the second form: %v\n%s", err, out)
	}

	out, err = runPlugin(t, "list", "--config", configs)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[0], "FORM") ||
		!strings.Contains(lines[1], "slack") || !strings.Contains(lines[1], "wasm") || !strings.HasSuffix(lines[1], "signed") ||
		!strings.Contains(lines[2], "slack") || !strings.Contains(lines[2], "goplugin") || !strings.HasSuffix(lines[2], "signed") {
		t.Errorf("list:\n%s", out)
	}

	if _, err := runPlugin(t, "remove", "slack", "--data", data); !isUsage(err) {
		t.Errorf("remove without a version: err = %v, want a usage error", err)
	}
	if _, err := runPlugin(t, "remove", "slack@0.1.0/dll", "--data", data); !isUsage(err) {
		t.Errorf("remove of a form that is none: err = %v, want a usage error", err)
	}
	if _, err := runPlugin(t, "remove", "slack@0.1.0", "--data", data); err == nil || !strings.Contains(err.Error(), "slack@0.1.0/wasm or slack@0.1.0/goplugin") {
		t.Errorf("remove of a version in two forms: err = %v, want it to ask which", err)
	}
	if out, err = runPlugin(t, "remove", "slack@0.1.0/wasm", "--data", data); err != nil || out != "removed slack@0.1.0/wasm\n" {
		t.Fatalf("remove wasm: %q, %v", out, err)
	}
	if out, err = runPlugin(t, "remove", "slack@0.1.0", "--data", data); err != nil || out != "removed slack@0.1.0/goplugin\n" {
		t.Fatalf("remove: %q, %v", out, err)
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

// runPluginErr is runPlugin returning stderr too.
func runPluginErr(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newPluginCmd()
	wrapArgs(cmd)
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// `plugin list` asks the hub when it can, reads the data dir when no hub
// answers, and says on stderr which it did; a hub that answers with an
// error is reported, never read around.
func TestPluginListAsksTheHub(t *testing.T) {
	body := `{"plugins": [{"manifest": {"name": "slack", "version": "0.1.0", "kind": "wasm", "capabilities": {}, "artifact": {"file": "slack.wasm", "sha256": "ab"}},
		"installedAt": "2026-01-02T03:04:05Z", "granted": {"http_hosts": ["hooks.slack.com"]}, "signedBy": "KEY",
		"id": "slack@0.1.0/wasm", "form": "wasm", "digest": "sha256:ab", "signer": "KEY", "usedBy": ["chat-a", "chat-b"]}]}`
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/plugins", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error": {"code": "unauthorized", "message": "bad admin token"}}`)
			return
		}
		io.WriteString(w, body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	hub := "http://" + ln.Addr().String()

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := "http://" + closed.Addr().String()
	closed.Close()

	data := t.TempDir()
	tests := []struct {
		name                string
		args                []string
		wantOut, wantErrOut string
		wantFail            string
	}{
		{name: "the hub answers", args: []string{"--server", hub, "--token", "good"},
			wantOut: "chat-a,chat-b", wantErrOut: "plugins installed in the hub at " + hub},
		{name: "json from the hub", args: []string{"--server", hub, "--token", "good", "--json"},
			wantOut: `"usedBy": [`, wantErrOut: "plugins installed in the hub at "},
		{name: "a wrong token is an error", args: []string{"--server", hub, "--token", "bad"},
			wantFail: "bad admin token"},
		{name: "no hub answers", args: []string{"--server", nobody, "--token", "good", "--data", data},
			wantOut: "no plugins installed", wantErrOut: "read locally"},
		{name: "no hub answers, no --data", args: []string{"--server", nobody, "--token", "good", "--config", t.TempDir()},
			wantOut: "no plugins installed", wantErrOut: "no hub asked (no hub at " + nobody + "); reading the data directory instead"},
		{name: "local", args: []string{"--local", "--server", hub, "--token", "good", "--data", data},
			wantOut: "no plugins installed", wantErrOut: "plugins installed in " + filepath.Join(data, "plugins")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir()) // the default data dir ./data is not the repo's
			out, errOut, err := runPluginErr(t, append([]string{"list"}, tt.args...)...)
			if tt.wantFail != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantFail) {
					t.Fatalf("err = %v, want %q", err, tt.wantFail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantErrOut) {
				t.Errorf("stdout:\n%s\nstderr:\n%s\nwant %q and %q", out, errOut, tt.wantOut, tt.wantErrOut)
			}
		})
	}
}
