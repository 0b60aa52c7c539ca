package e2e

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
)

// TestOCIDistribution: plugins/segment pushed as a Wasm module and
// plugins/hello as go-plugin executables for linux/amd64 and linux/arm64,
// signed, to an in-process registry on loopback behind basic auth; both
// installed by reference on a fresh hub under require_signatures, and a
// run goes through each. Then, air-gapped: both saved to files, the
// registry closed, and a second fresh hub installs the files and completes
// a run.
func TestOCIDistribution(t *testing.T) {
	rig := newOCIRig(t, "registry-pass-e2e")
	reg, host, env, cli, key, pub, user, pass := rig.reg, rig.host, rig.env, rig.cli, rig.key, rig.pub, rig.user, rig.pass
	configs := copyConfigs(t, "testdata/oci")
	rig.trustingSettings(configs)

	segRef, helloRef := host+"/junction/segment:1.0.0", host+"/junction/hello:0.1.0"
	out := cli("plugin", "push", filepath.Join("..", "plugins", "segment"), segRef, "--sign-key", key, "--forms", "wasm")
	if !strings.Contains(out, "pushed segment@1.0.0 (1 form(s), signed)") {
		t.Fatalf("push segment:\n%s", out)
	}
	out = cli("plugin", "push", filepath.Join("..", "plugins", "hello"), helloRef, "--sign-key", key, "--forms", "goplugin", "--platforms", "linux/amd64,linux/arm64")
	if !strings.Contains(out, "pushed hello@0.1.0 (2 form(s), signed)") {
		t.Fatalf("push hello:\n%s", out)
	}
	if got := indexPlatforms(t, reg.URL, "junction/hello", "0.1.0", user, pass); strings.Join(got, ",") != "linux/amd64,linux/arm64" {
		t.Fatalf("hello's index offers %v", got)
	}

	hubEnv := map[string]string{"SEGMENT_WRITE_KEY": segWriteKey, "SEGMENT_SHARED_SECRET": segSecret}
	data := t.TempDir()
	for _, ref := range []string{segRef, helloRef} {
		out := cli("plugin", "install", ref, "--data", data, "--config", configs)
		if !strings.Contains(out, "signed by "+pub) || !strings.Contains(out, "source: "+ref) {
			t.Fatalf("install %s:\n%s", ref, out)
		}
	}
	h := startHub(t, configs, data, hubEnv, "")
	greetRun(t, h, "ada@example.com")

	var pl struct {
		Plugins []struct {
			ID           string `json:"id"`
			Source       string `json:"source"`
			SourceDigest string `json:"sourceDigest"`
			Signer       string `json:"signer"`
		} `json:"plugins"`
	}
	if code := h.api("GET", "/plugins", nil, &pl); code != 200 || len(pl.Plugins) != 2 {
		t.Fatalf("GET /plugins: %d %+v", code, pl)
	}
	for _, p := range pl.Plugins {
		if !strings.HasPrefix(p.Source, host+"/junction/") || !strings.HasPrefix(p.SourceDigest, "sha256:") || p.Signer != pub {
			t.Errorf("plugin %s: source %q digest %q signer %q", p.ID, p.Source, p.SourceDigest, p.Signer)
		}
	}
	h.Stop()

	// Air-gapped: save, close the registry (its address is now a closed
	// port), install from the files on a fresh data dir.
	tmp := t.TempDir()
	segFile, helloFile := filepath.Join(tmp, "segment.tar"), filepath.Join(tmp, "hello.tar")
	cli("plugin", "save", segRef, segFile)
	cli("plugin", "save", helloRef, helloFile)
	reg.Close()
	gapped := t.TempDir()
	cmd := exec.Command(junctionBinary(t), "plugin", "install", segRef, "--data", gapped, "--config", configs)
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("installed by reference with the registry closed:\n%s", b)
	}
	for _, f := range []string{segFile, helloFile} {
		if out := cli("plugin", "install", f, "--data", gapped, "--config", configs); !strings.Contains(out, "signed by "+pub) {
			t.Fatalf("install %s:\n%s", f, out)
		}
	}
	h2 := startHub(t, configs, gapped, hubEnv, "")
	greetRun(t, h2, "grace@example.com")
}

// greetRun posts one identify through segment (Wasm) and waits for the
// run whose greet task ran in hello (go-plugin).
func greetRun(t *testing.T, h *hubProc, email string) {
	t.Helper()
	sdkBatch(t, h, map[string]any{"type": "identify", "messageId": "m-" + email, "userId": "u1", "traits": map[string]any{"email": email}})
	var run runView
	waitFor(t, 120*time.Second, "the run through both plugins", func() bool {
		runs := allRuns(h, url.Values{"status": {"completed"}})
		if len(runs) == 1 {
			run = runs[0]
			return true
		}
		return false
	})
	if len(run.Tasks) != 1 || !strings.Contains(string(run.Tasks[0].Output), "Hello, "+email) {
		t.Fatalf("greet output: %+v", run.Tasks)
	}
}

// indexPlatforms lists the platforms of a pushed index, read straight from

// ociRig is an in-process registry on loopback behind basic auth, the
// environment that gives the junction CLI its credentials, and a signing
// key whose public half is trusted by the Settings written by
// trustingSettings.
type ociRig struct {
	reg        *httptest.Server
	host       string
	user, pass string
	env        []string
	key, pub   string
	t          *testing.T
}

func newOCIRig(t *testing.T, pass string) *ociRig {
	t.Helper()
	r := &ociRig{t: t, user: "ci-pusher", pass: pass}
	inner := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	r.reg = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if u, p, ok := req.BasicAuth(); !ok || u != r.user || p != r.pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="e2e"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, req)
	}))
	t.Cleanup(r.reg.Close)
	r.host = strings.TrimPrefix(r.reg.URL, "http://")
	r.env = append(os.Environ(), "JUNCTION_REGISTRY_USERNAME="+r.user, "JUNCTION_REGISTRY_PASSWORD="+pass, "DOCKER_CONFIG="+t.TempDir())
	r.key = filepath.Join(t.TempDir(), "signing.key")
	out := r.cli("plugin", "keygen", "--out", r.key)
	r.pub = strings.TrimSpace(out[strings.LastIndex(out, "\n  ")+1:])
	return r
}

// cli runs junction with the registry credentials; it fails the test when
// the command fails or prints the password.
func (r *ociRig) cli(args ...string) string {
	r.t.Helper()
	cmd := exec.Command(junctionBinary(r.t), args...)
	cmd.Env = r.env
	b, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("junction %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	if strings.Contains(string(b), r.pass) {
		r.t.Fatalf("junction %s printed the registry password", args[1])
	}
	return string(b)
}

// trustingSettings writes Settings that require signatures and trust only
// the rig's key.
func (r *ociRig) trustingSettings(dir string) {
	writeFile(r.t, filepath.Join(dir, "settings.yaml"), "apiVersion: junction/v1\nkind: Settings\nmetadata: {name: settings}\nspec:\n  trusted_keys: [\""+r.pub+"\"]\n  require_signatures: true\n")
}

// the registry's API.
func indexPlatforms(t *testing.T, base, repo, tag, user, pass string) []string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/v2/"+repo+"/manifests/"+tag, nil)
	req.SetBasicAuth(user, pass)
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var idx struct {
		Manifests []struct {
			Platform struct {
				OS           string `json:"os"`
				Architecture string `json:"architecture"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&idx); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range idx.Manifests {
		out = append(out, m.Platform.OS+"/"+m.Platform.Architecture)
	}
	slices.Sort(out)
	return out
}
