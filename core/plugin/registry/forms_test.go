package registry_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/plugin/registry"
)

// distForm writes a built plugin of one form: a Wasm artifact starts with
// the Wasm magic, so the kind check passes as for a real module.
func distForm(t *testing.T, name, version string, form registry.Kind, content string) string {
	t.Helper()
	if form == registry.KindWasm {
		content = "\x00asm" + content
	}
	dir := dist(t, name, version, registry.Capabilities{}, content)
	m, err := registry.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	m.Kind = form
	if err := registry.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		in      string
		want    registry.Ref
		wantErr string
	}{
		{in: "slack", want: registry.Ref{Name: "slack"}},
		{in: "slack@0.1.0", want: registry.Ref{Name: "slack", Version: "0.1.0"}},
		{in: "slack@0.1.0/wasm", want: registry.Ref{Name: "slack", Version: "0.1.0", Form: registry.KindWasm}},
		{in: "slack@1.0.0-rc.1/goplugin", want: registry.Ref{Name: "slack", Version: "1.0.0-rc.1", Form: registry.KindGoPlugin}},
		{in: "slack/wasm", wantErr: "a form is pinned with its version, e.g. slack@1.0.0/wasm"},
		{in: "slack@0.1.0/native", wantErr: `form "native": want wasm or goplugin`},
		{in: "slack@0.1", wantErr: "0.1"},
		{in: "Slack@0.1.0", wantErr: "bad name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := registry.ParseRef(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRef(%q) err = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want || got.String() != tt.in {
				t.Errorf("ParseRef(%q) = %+v (%s), %v", tt.in, got, got, err)
			}
		})
	}
}

// Both forms of one name@version install side by side; a reference without
// a form picks Wasm, one with a form pins it; removing needs the form while
// both are there.
func TestBothFormsSideBySide(t *testing.T) {
	r := open(t)
	gp, err := r.Install(ctx, distForm(t, "notifier", "1.0.0", registry.KindGoPlugin, "native"), registry.InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := r.Install(ctx, distForm(t, "notifier", "1.0.0", registry.KindWasm, "module"), registry.InstallOptions{})
	if err != nil {
		t.Fatalf("installing the second form: %v", err)
	}
	if gp.ID() != "notifier@1.0.0/goplugin" || wasm.ID() != "notifier@1.0.0/wasm" || gp.Dir == wasm.Dir {
		t.Fatalf("installed %s in %s and %s in %s", gp.ID(), gp.Dir, wasm.ID(), wasm.Dir)
	}
	var ids []string
	for _, p := range r.List() {
		ids = append(ids, p.ID())
	}
	if got := strings.Join(ids, " "); got != "notifier@1.0.0/wasm notifier@1.0.0/goplugin" {
		t.Errorf("List = %s", got)
	}
	resolves := map[string]string{
		"notifier":                     "notifier@1.0.0/wasm",
		"notifier@1.0.0":               "notifier@1.0.0/wasm",
		"notifier@1.0.0/wasm":          "notifier@1.0.0/wasm",
		"notifier@1.0.0/goplugin":      "notifier@1.0.0/goplugin",
		"notifier@2.0.0/wasm":          "not installed (installed: 1.0.0/wasm, 1.0.0/goplugin)",
		"notifier@1.0.0/somethingelse": `form "somethingelse"`,
	}
	for ref, want := range resolves {
		p, err := r.Resolve(ref)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = p.ID()
		}
		if !strings.Contains(got, want) {
			t.Errorf("Resolve(%s) = %s, want %s", ref, got, want)
		}
	}

	if err := r.Remove("notifier", "1.0.0"); err == nil || !strings.Contains(err.Error(), "remove one, notifier@1.0.0/wasm or notifier@1.0.0/goplugin") {
		t.Errorf("Remove without a form while both are installed: %v", err)
	}
	if form, err := r.RemoveForm("notifier", "1.0.0", registry.KindWasm); err != nil || form != registry.KindWasm {
		t.Fatalf("RemoveForm wasm: %s, %v", form, err)
	}
	if p, err := r.Resolve("notifier@1.0.0"); err != nil || p.ID() != "notifier@1.0.0/goplugin" {
		t.Errorf("after removing wasm, Resolve = %v, %v", p, err)
	}
	if form, err := r.RemoveForm("notifier", "1.0.0", ""); err != nil || form != registry.KindGoPlugin {
		t.Fatalf("Remove of the only form left: %s, %v", form, err)
	}
	if ents, _ := os.ReadDir(r.Dir()); len(ents) != 0 {
		t.Errorf("left behind after removing both forms: %v", ents)
	}
}

// Other content under the same name@version/form is still refused, and the
// refusal names the command that clears the way.
func TestInstallSameFormOtherContent(t *testing.T) {
	r := open(t)
	if _, err := r.Install(ctx, distForm(t, "notifier", "1.0.0", registry.KindWasm, "v1"), registry.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := r.Install(ctx, distForm(t, "notifier", "1.0.0", registry.KindWasm, "v2"), registry.InstallOptions{})
	if err == nil || !strings.Contains(err.Error(), "notifier@1.0.0/wasm is already installed with other content") ||
		!strings.Contains(err.Error(), "junction plugin remove notifier@1.0.0/wasm") || !strings.Contains(err.Error(), "Spec") {
		t.Fatalf("err = %v", err)
	}
}

// A version installed by an older Junction (no <form> level), or one whose
// move was interrupted, is moved into the per-form layout by Open.
func TestOpenMovesTheOldLayout(t *testing.T) {
	data := t.TempDir()
	r, err := registry.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1.0.0", "2.0.0"} {
		p, err := r.Install(ctx, distForm(t, "notifier", v, registry.KindWasm, v), registry.InstallOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Back to the old layout: the form's files one level up.
		old := filepath.Join(r.Dir(), "notifier", v)
		ents, _ := os.ReadDir(p.Dir)
		for _, e := range ents {
			if err := os.Rename(filepath.Join(p.Dir, e.Name()), filepath.Join(old, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
		os.Remove(p.Dir)
	}
	// 2.0.0 was interrupted after its first rename.
	if err := os.Rename(filepath.Join(r.Dir(), "notifier", "2.0.0"), filepath.Join(r.Dir(), "notifier", ".migrate-2.0.0")); err != nil {
		t.Fatal(err)
	}
	if findings, err := registry.Audit(data); err != nil || len(findings) != 1 || findings[0].Err != nil {
		t.Errorf("Audit of the old layout: %+v, %v", findings, err)
	}
	// A View (junction validate) reads the old layout where it is and
	// moves nothing.
	view := registry.View(data)
	if p, err := view.Resolve("notifier@1.0.0"); err != nil || p.ID() != "notifier@1.0.0/wasm" {
		t.Errorf("View: Resolve(notifier@1.0.0) = %v, %v", p, err)
	}
	if _, err := view.Resolve("notifier@1.0.0/goplugin"); err == nil || !strings.Contains(err.Error(), "is not installed") {
		t.Errorf("View: Resolve of the form not installed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(r.Dir(), "notifier", "1.0.0", registry.ManifestFile)); err != nil {
		t.Errorf("the View moved the old layout: %v", err)
	}
	if _, err := view.Install(ctx, distForm(t, "other", "1.0.0", registry.KindWasm, "x"), registry.InstallOptions{}); err == nil {
		t.Error("Install through a View succeeded")
	}

	r, err = registry.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"notifier@1.0.0/wasm", "notifier@2.0.0/wasm"} {
		if p, err := r.Resolve(ref); err != nil || p.ID() != ref {
			t.Errorf("after Open, Resolve(%s) = %v, %v", ref, p, err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(r.Dir(), "notifier")); len(ents) != 2 {
		t.Errorf("notifier holds %v, want the two versions only", ents)
	}
}

// Refusals name the command or setting that fixes them.
func TestRefusalsNameTheFix(t *testing.T) {
	trusted, _ := newKey(t)
	asks := registry.Capabilities{HTTPHosts: []string{"api.example.com", "hooks.slack.com"}, KV: true, Secrets: []string{"token"}}
	tests := []struct {
		name string
		opts registry.InstallOptions
		want []string
	}{
		{name: "unsigned", opts: registry.InstallOptions{TrustedKeys: []ed25519.PublicKey{trusted}, RequireSignatures: true},
			want: []string{"junction plugin sign --key KEY DIR/dist", "not the source directory"}},
		{name: "no trusted keys", opts: registry.InstallOptions{RequireSignatures: true},
			want: []string{"settings trusted_keys", "junction plugin keygen"}},
		{name: "capabilities", opts: registry.InstallOptions{Granted: &registry.Capabilities{HTTPHosts: []string{"hooks.slack.com"}}},
			want: []string{"grant them with --grant-http api.example.com --grant-http hooks.slack.com --grant-kv --grant-secret token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := open(t).Install(ctx, dist(t, "notifier", "1.0.0", asks, "bin"), tt.opts)
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to name %q", err, w)
				}
			}
		})
	}
}

func TestSourceVersion(t *testing.T) {
	tests := []struct {
		name, src, want, wantErr string
	}{
		{name: "literal", src: `package p
import "github.com/junctionhub/junction/pluginsdk"
func (c *C) Spec() pluginsdk.Spec { return pluginsdk.Spec{Name: "x", Version: "1.2.3"} }`, want: "1.2.3"},
		{name: "constant", src: `package p
import "github.com/junctionhub/junction/pluginsdk"
const Version = "0.4.0"
func (c *C) Spec() pluginsdk.Spec { return pluginsdk.Spec{Name: "x", Version: Version} }`, want: "0.4.0"},
		{name: "computed", src: `package p
import "github.com/junctionhub/junction/pluginsdk"
func (c *C) Spec() pluginsdk.Spec { return pluginsdk.Spec{Name: "x", Version: v()} }`, wantErr: "no pluginsdk.Spec literal with a constant Version"},
		{name: "two versions", src: `package p
import "github.com/junctionhub/junction/pluginsdk"
var a = pluginsdk.Spec{Version: "1.0.0"}
var b = pluginsdk.Spec{Version: "2.0.0"}`, wantErr: "several Spec versions (1.0.0, 2.0.0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "c.go"), []byte(tt.src), 0o644)
			// Tests are not the connector.
			os.WriteFile(filepath.Join(dir, "c_test.go"), []byte(`package p
var x = pluginsdk.Spec{Version: "9.9.9"}`), 0o644)
			got, err := registry.SourceVersion(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("SourceVersion = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// The version is declared once, in Spec.Version: the build writes it into
// the built manifest, and a source manifest that names another is refused
// with the line to delete.
func TestBuildTakesTheVersionFromTheSpec(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go toolchain")
	}
	src := filepath.Join(bundledModule(t), "slack")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "slack")
	m, err := registry.BuildDist(ctx, src, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if built, err := registry.ReadManifest(filepath.Dir(out)); err != nil || m.Version != "0.1.0" || built.Version != "0.1.0" {
		t.Fatalf("built manifest version %q (%+v, %v), want the Spec's 0.1.0", m.Version, built, err)
	}

	// Both forms built by default land in their own directories: the
	// manifest's kind in dist, the other form in dist/<form>.
	if _, err := registry.BuildDist(ctx, src, "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := registry.BuildDistAs(ctx, src, "", registry.KindWasm, nil); err != nil {
		t.Fatal(err)
	}
	for dir, kind := range map[string]registry.Kind{"dist": registry.KindGoPlugin, "dist/wasm": registry.KindWasm} {
		if m, err := registry.ReadManifest(filepath.Join(src, dir)); err != nil || m.Kind != kind || m.Version != "0.1.0" {
			t.Errorf("%s holds %+v, %v; want slack@0.1.0 as %s", dir, m, err, kind)
		}
	}

	mf := filepath.Join(src, registry.ManifestFile)
	b, _ := os.ReadFile(mf)
	if err := os.WriteFile(mf, bytes.Replace(b, []byte("kind:"), []byte("version: 0.2.0\nkind:"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = registry.BuildDist(ctx, src, out, nil)
	if err == nil || !strings.Contains(err.Error(), "says version 0.2.0 but the connector's Spec.Version is 0.1.0") ||
		!strings.Contains(err.Error(), "delete the version line from junction-plugin.yaml") {
		t.Fatalf("err = %v", err)
	}
}
