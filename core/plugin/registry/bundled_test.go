package registry_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/plugin/gopluginhost"
	"github.com/junctionhub/junction/core/plugin/registry"
)

// bundledModule lays out a module outside the repository holding a copy of
// plugins/slack, the way a third party's plugin repository looks:
// its own go.mod, requiring Junction (replaced by this checkout, so the
// build needs no network). It returns the folder holding the plugin folder.
//
// The go.mod states Junction's go version and lists every requirement of
// Junction's own go.mod, as a tidy plugin module would. With only `require
// junction` (or an older go version), the go command builds the module graph
// itself, and graph pruning stops at modules whose go.mod predates Go 1.17:
// it then reads their requirements' go.mod files too (fatih/color v1.13.0 →
// go-colorable v0.1.9), which building Junction never needs. Those are in a
// module cache only by chance, so with GOPROXY=off the test failed on a
// fresh machine.
func bundledModule(t *testing.T) string {
	t.Helper()
	repo, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	plugins := filepath.Join(mod, "plugins")
	src := filepath.Join(repo, "plugins", "slack")
	dst := filepath.Join(plugins, "slack")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"main.go", "notifier.go", registry.ManifestFile} {
		copyTo(t, filepath.Join(src, f), filepath.Join(dst, f))
	}
	copyTo(t, filepath.Join(repo, "go.sum"), filepath.Join(mod, "go.sum"))
	gomod := "module example.com/bundled\n\n" +
		goModDirectives(t, filepath.Join(repo, "go.mod")) +
		"\nrequire github.com/junctionhub/junction v0.0.0\n\n" +
		"\nreplace github.com/junctionhub/junction => " + repo + "\n"
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	// The module must build offline, with what building Junction fetched:
	// -mod=readonly (the default) loads no module graph beyond go.mod.
	cmd := exec.Command("go", "list", "-deps", "./...")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("prepare module: %v\n%s", err, out)
	}
	return plugins
}

// goModDirectives returns the go, toolchain and require directives of a
// go.mod file. The go version must be Junction's too: a lower one makes the
// go command load the module graph beyond go.mod (see bundledModule).
func goModDirectives(t *testing.T, gomod string) string {
	t.Helper()
	b, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case in:
			out.WriteString(line + "\n")
			in = trimmed != ")"
		case strings.HasPrefix(trimmed, "require ("):
			out.WriteString(line + "\n")
			in = true
		case strings.HasPrefix(trimmed, "require "), strings.HasPrefix(trimmed, "go "), strings.HasPrefix(trimmed, "toolchain "):
			out.WriteString(line + "\n")
		}
	}
	return out.String()
}

func copyTo(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureBundled(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go toolchain")
	}
	plugins := bundledModule(t)
	r := open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	var progress bytes.Buffer
	ps, err := r.EnsureBundled(ctx, []string{plugins}, &progress)
	if err != nil {
		t.Fatalf("first EnsureBundled: %v\n%s", err, progress.String())
	}
	if len(ps) != 1 || ps[0].Ref() != "slack@0.1.0" || !ps[0].Bundled {
		t.Fatalf("installed %v", ps)
	}
	first := ps[0]
	if !strings.Contains(progress.String(), "not installed, building") {
		t.Errorf("progress does not tell about the build:\n%s", progress.String())
	}
	// The build read the summary from the connector itself.
	if c := first.Manifest.Connector; c.Direction != "outbound" || strings.Join(c.Actions, ",") != "notify" {
		t.Errorf("connector summary = %+v", c)
	}
	// And the installed executable is a working plugin.
	c, err := gopluginhost.Start(ctx, gopluginhost.Options{Path: first.ArtifactPath})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Spec(); s.Name != "slack" {
		t.Errorf("installed plugin spec %s", s.Name)
	}
	c.Close()

	progress.Reset()
	ps, err = r.EnsureBundled(ctx, []string{plugins}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if out := progress.String(); !strings.Contains(out, "up to date") || strings.Contains(out, "build") {
		t.Errorf("second call with nothing changed:\n%s", out)
	}
	if ps[0].SourceHash != first.SourceHash || !ps[0].InstalledAt.Equal(first.InstalledAt) {
		t.Errorf("second call reinstalled: %+v", ps[0])
	}

	// A changed source file is rebuilt and replaces the installed version.
	notifier := filepath.Join(plugins, "slack", "notifier.go")
	b, _ := os.ReadFile(notifier)
	b = bytes.Replace(b, []byte(`Description: "Slack-style notifier`), []byte(`Description: "Chat notifier`), 1)
	if err := os.WriteFile(notifier, b, 0o644); err != nil {
		t.Fatal(err)
	}
	progress.Reset()
	ps, err = r.EnsureBundled(ctx, []string{plugins}, &progress)
	if err != nil {
		t.Fatalf("after a change: %v\n%s", err, progress.String())
	}
	if !strings.Contains(progress.String(), "sources changed, rebuilding") {
		t.Errorf("progress after a change:\n%s", progress.String())
	}
	if ps[0].SourceHash == first.SourceHash || ps[0].Manifest.Artifact.SHA256 == first.Manifest.Artifact.SHA256 {
		t.Errorf("not rebuilt: %+v", ps[0])
	}
	if len(r.List()) != 1 {
		t.Errorf("List = %v, want the one replaced version", r.List())
	}
	if ents, _ := os.ReadDir(r.Dir()); len(ents) != 1 {
		t.Errorf("staging directories left behind: %v", ents)
	}
}

// Installing a source directory builds it first; the user-installed version
// is then kept by EnsureBundled instead of being replaced.
func TestInstallFromSource(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go toolchain")
	}
	plugins := bundledModule(t)
	r := open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p, err := r.Install(ctx, filepath.Join(plugins, "slack"), registry.InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Bundled || p.Manifest.Artifact.SHA256 == "" {
		t.Errorf("installed %+v", p)
	}
	var progress bytes.Buffer
	if _, err := r.EnsureBundled(ctx, []string{plugins}, &progress); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "keeping the version installed by hand") {
		t.Errorf("progress:\n%s", progress.String())
	}
}

// `junction plugin build DIR` writes DIR/dist, which ignores itself in git,
// and never writes over the source manifest.
func TestBuildDist(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go toolchain")
	}
	src := filepath.Join(bundledModule(t), "slack")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	m, err := registry.BuildDist(ctx, src, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	dist := filepath.Join(src, registry.DistDir)
	if b, err := os.ReadFile(filepath.Join(dist, ".gitignore")); err != nil || string(b) != "*\n" {
		t.Errorf("dist/.gitignore = %q, %v", b, err)
	}
	built, err := registry.ReadManifest(dist)
	if err != nil {
		t.Fatal(err)
	}
	if built.Artifact != m.Artifact || built.Artifact.File != "slack" || built.Signature != "" {
		t.Errorf("dist manifest artifact %+v, returned %+v", built.Artifact, m.Artifact)
	}
	if _, err := registry.BuildDist(ctx, src, filepath.Join(src, "slack"), nil); err == nil || !strings.Contains(err.Error(), "outside the source directory") {
		t.Errorf("building into the source directory: err = %v", err)
	}
	if source, err := registry.ReadManifest(src); err != nil || source.Artifact.File != "" {
		t.Errorf("the source manifest changed: %+v, %v", source, err)
	}
}
