package e2e

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// freshClone is the repository at HEAD in a temp dir, as a user's clone is:
// no built plugins, no data directory. Outside a git checkout (a source
// archive) it copies configs/ and plugins/ without dist/ instead.
func freshClone(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "clone")
	if out, err := exec.Command("git", "clone", "--quiet", "--shared", root, dst).CombinedOutput(); err == nil {
		return dst
	} else {
		t.Logf("git clone failed (%v: %s); copying configs/ and plugins/", err, bytes.TrimSpace(out))
	}
	for _, dir := range []string{"configs", "plugins"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() {
				if d.Name() == "dist" || d.Name() == "data" {
					return filepath.SkipDir
				}
				return os.MkdirAll(filepath.Join(dst, rel), 0o755)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// runIn runs the binary in dir and returns stdout, stderr and the exit
// status apart, so that each can be checked on its own.
func runIn(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(junctionBinary(t), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// TestValidateFreshCloneFromElsewhere: `junction validate <clone>/configs`
// passes on a fresh clone with a fresh data directory, run from another
// working directory, before any plugin is built: the bundled plugins are
// found through Settings plugin_dirs beside the configs, from their
// manifests, and nothing is built or created.
func TestValidateFreshCloneFromElsewhere(t *testing.T) {
	clone := freshClone(t)
	if dists, _ := filepath.Glob(filepath.Join(clone, "plugins", "*", "dist")); len(dists) > 0 {
		t.Fatalf("the clone has built plugins: %v", dists)
	}
	elsewhere := t.TempDir()
	data := filepath.Join(t.TempDir(), "fresh-data")
	configs := filepath.Join(clone, "configs")

	for _, args := range [][]string{
		{"validate", "--data", data, configs},
		{"validate", configs}, // data_dir from Settings: ./data under elsewhere
	} {
		stdout, stderr, code := runIn(t, elsewhere, args...)
		if code != 0 || !strings.HasPrefix(stdout, "ok: ") {
			t.Fatalf("%v from %s: exit %d\nstdout:\n%s\nstderr:\n%s", args, elsewhere, code, stdout, stderr)
		}
	}
	if dists, _ := filepath.Glob(filepath.Join(clone, "plugins", "*", "dist")); len(dists) > 0 {
		t.Errorf("validate built plugins: %v", dists)
	}
	for _, d := range []string{data, filepath.Join(elsewhere, "data")} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("validate created %s (%v)", d, err)
		}
	}

	// Without a plugin's source the error names both places it looked.
	if err := os.RemoveAll(filepath.Join(clone, "plugins", "aep")); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runIn(t, elsewhere, "validate", "--data", data, configs)
	for _, want := range []string{
		`unknown connector "aep"`,
		filepath.Join(data, "plugins") + " (installed plugins, does not exist)",
		filepath.Join(clone, "plugins") + " (plugin sources)",
		"junction plugin install",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code != 1 || !strings.HasSuffix(stderr, "\njunction: 1 error(s) in the configuration\n") {
		t.Errorf("exit %d; each error must be a line of its own:\n%q", code, stderr)
	}
}

// TestValidateAllowHostsNeedAllowPrivate: a loopback allow_hosts entry
// without allow_private fails every call at run time, so validate refuses
// it, at its position, naming network.allow_private; serve refuses it too.
func TestValidateAllowHostsNeedAllowPrivate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "out.yaml")
	writeFile(t, file, `apiVersion: junction/v1
kind: Connection
metadata: {name: crm-out}
spec:
  connector: webhook
  config: {url: "http://127.0.0.1:9/deliver"}
  network: {allow_hosts: ["127.0.0.1:9"]}
`)
	want := file + `:7:27: spec.network.allow_hosts[0]: 127.0.0.1:9 is a loopback address, and without network.allow_private every call to it is refused at run time; set spec.network.allow_private: true to reach it` + "\n"
	_, stderr, code := runIn(t, dir, "validate", file)
	if code != 1 || !strings.HasPrefix(stderr, want) {
		t.Fatalf("validate: exit %d, stderr:\n%s\nwant it to begin with\n%s", code, stderr, want)
	}
	_, stderr, code = runIn(t, dir, "serve", "--config", file, "--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(stderr, "network.allow_private") {
		t.Fatalf("serve: exit %d, stderr:\n%s", code, stderr)
	}

	writeFile(t, file, strings.Replace(mustRead(t, file), `allow_hosts: ["127.0.0.1:9"]`, `allow_hosts: ["127.0.0.1:9"], allow_private: true`, 1))
	if stdout, stderr, code := runIn(t, dir, "validate", file); code != 0 {
		t.Fatalf("with allow_private: exit %d\n%s%s", code, stdout, stderr)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestCLIErrorsEndWithNewline: whatever fails, stderr ends with a newline,
// so the next prompt or message starts on a line of its own.
func TestCLIErrorsEndWithNewline(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "apiVersion: junction/v1\nkind: Connection\nmetadata: {name: x}\nspec: {connector: nope}\n")
	two := filepath.Join(dir, "two.yaml")
	writeFile(t, two, "apiVersion: junction/v1\nkind: Connection\nmetadata: {name: x}\nspec: {connector: nope, bogus: 1}\n")
	payload := filepath.Join(dir, "p.json")
	writeFile(t, payload, `{}`)
	closed := "http://" + freeAddr(t) // nothing listens there
	for _, args := range [][]string{
		{"validate", bad},
		{"validate", two},
		{"validate", filepath.Join(dir, "missing.yaml")},
		{"serve", "--config", bad, "--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0"},
		{"up", "--config", two, "--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0"},
		{"workflow", "apply", bad, "--config-dir", dir},
		{"workflow", "run", "w", "--input", payload, "--server", closed, "--token", "t"},
		{"workflow", "run", "w", "--input", payload, "--dry-run", "--server", closed, "--token", "t"},
		{"apply", bad, "--server", closed, "--token", "t"},
		{"runs", "list", "--bogus"},
		{"plugin", "install", filepath.Join(dir, "nowhere"), "--data", filepath.Join(dir, "data")},
		{"mapping", "infer", bad},
		{"no-such-command"},
	} {
		_, stderr, code := runIn(t, dir, args...)
		if code == 0 || stderr == "" || !strings.HasSuffix(stderr, "\n") {
			t.Errorf("%v: exit %d, stderr %q: want a failure whose stderr ends with a newline", args, code, stderr)
		}
		// Each message ends its line: none runs into the final "junction: ...".
		for line := range strings.SplitSeq(stderr, "\n") {
			if i := strings.Index(line, "junction: "); i > 0 {
				t.Errorf("%v: a message runs into the next one: %q", args, line)
			}
		}
	}
}
