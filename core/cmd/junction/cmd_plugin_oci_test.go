package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	"github.com/junctionhub/junction/core/plugin/registry"
)

// ociBuilt writes a built Wasm plugin directory (enough of a module for
// the installer, which never runs it).
func ociBuilt(t *testing.T, name, version string) string {
	t.Helper()
	dir := t.TempDir()
	art := append([]byte("\x00asm\x01\x00\x00\x00"), []byte(name+version)...)
	if err := os.WriteFile(filepath.Join(dir, name+".wasm"), art, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(art)
	m := &registry.Manifest{Name: name, Version: version, Kind: registry.KindWasm,
		Artifact: registry.Artifact{File: name + ".wasm", SHA256: hex.EncodeToString(sum[:])}}
	if err := registry.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The operator's path through a registry: push signed versions, install by
// reference, save and install the file with the registry gone, then
// outdated and upgrade from 1.0.0 to 1.1.0 with 1.0.0 kept beside it.
func TestPluginRegistryCommands(t *testing.T) {
	t.Setenv("JUNCTION_ADMIN_TOKEN", "")
	t.Setenv("JUNCTION_REGISTRY_USERNAME", "ops")
	t.Setenv("JUNCTION_REGISTRY_PASSWORD", "hunter2-registry")
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials from the machine
	inner := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ops" || p != "hunter2-registry" {
			w.Header().Set("WWW-Authenticate", `Basic realm="t"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	tmp := t.TempDir()
	key := filepath.Join(tmp, "signing.key")
	out, err := runPlugin(t, "keygen", "--out", key)
	if err != nil {
		t.Fatal(err)
	}
	pub := strings.TrimSpace(out[strings.LastIndex(out, "\n  ")+1:])
	writeSettings := func(data string) string {
		dir := filepath.Join(tmp, "configs-"+filepath.Base(data))
		os.MkdirAll(dir, 0o755)
		s := "apiVersion: junction/v1\nkind: Settings\nmetadata: {name: s}\nspec:\n  data_dir: " + data +
			"\n  trusted_keys: [\"" + pub + "\"]\n  require_signatures: true\n"
		if err := os.WriteFile(filepath.Join(dir, "settings.yaml"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	data := filepath.Join(tmp, "data")
	configs := writeSettings(data)

	repo := host + "/junction/echo"
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0"} {
		out, err := runPlugin(t, "push", ociBuilt(t, "echo", v), repo+":"+v, "--sign-key", key)
		if err != nil {
			t.Fatalf("push %s: %v", v, err)
		}
		if !strings.Contains(out, "pushed echo@"+v+" (1 form(s), signed)") || !strings.Contains(out, "digest: sha256:") {
			t.Fatalf("push output:\n%s", out)
		}
	}

	out, err = runPlugin(t, "install", repo+":1.0.0", "--config", configs)
	if err != nil {
		t.Fatalf("install by reference: %v", err)
	}
	if !strings.Contains(out, "installed echo@1.0.0 (wasm, signed by "+pub+")") || !strings.Contains(out, "source: "+repo+":1.0.0") {
		t.Fatalf("install output:\n%s", out)
	}
	if strings.Contains(out, "hunter2") {
		t.Fatal("a credential was printed")
	}

	saved := filepath.Join(tmp, "echo-1.0.0.tar")
	if out, err = runPlugin(t, "save", repo+":1.0.0", saved); err != nil {
		t.Fatalf("save: %v", err)
	}

	out, err = runPlugin(t, "outdated", "--config", configs)
	if err != nil {
		t.Fatalf("outdated: %v", err)
	}
	if !strings.Contains(out, "echo") || !strings.Contains(out, "2.0.0") {
		t.Fatalf("outdated output:\n%s", out)
	}
	out, err = runPlugin(t, "upgrade", "echo", "--constraint", "^1", "--config", configs)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	if !strings.Contains(out, "installed echo@1.1.0/wasm beside echo@1.0.0/wasm") {
		t.Fatalf("upgrade output:\n%s", out)
	}
	r, err := registry.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{"echo@1.0.0": "1.0.0", "echo@1.1.0": "1.1.0", "echo": "1.1.0"} {
		p, err := r.Resolve(ref)
		if err != nil || p.Manifest.Version != want {
			t.Fatalf("resolve %s: %v %v, want %s", ref, p, err, want)
		}
	}
	if out, err = runPlugin(t, "upgrade", "echo", "--constraint", "^1", "--config", configs); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("second upgrade: %v\n%s", err, out)
	}

	// Air-gapped: the registry is gone; the saved file installs, the
	// reference cannot.
	srv.Close()
	gapped := filepath.Join(tmp, "gapped")
	gappedConfigs := writeSettings(gapped)
	if _, err := runPlugin(t, "install", repo+":1.0.0", "--config", gappedConfigs); err == nil {
		t.Fatal("installed by reference with the registry closed")
	}
	out, err = runPlugin(t, "install", saved, "--config", gappedConfigs)
	if err != nil {
		t.Fatalf("install saved file: %v", err)
	}
	if !strings.Contains(out, "installed echo@1.0.0") || !strings.Contains(out, "source: "+repo+":1.0.0") {
		t.Fatalf("install file output:\n%s", out)
	}
}
