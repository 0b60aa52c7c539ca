package oci

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/junctionhub/junction/core/plugin/registry"
)

func openRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	r, err := registry.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func trustOptions(keys ...ed25519.PublicKey) InstallOptions {
	return InstallOptions{InstallOptions: registry.InstallOptions{TrustedKeys: keys, RequireSignatures: true}}
}

// TestPushInstall pushes a signed plugin (Wasm and a go-plugin executable
// for this platform) and installs it by tag, by digest, and from a saved
// layout file, each recording where it came from and who signed it.
func TestPushInstall(t *testing.T) {
	ctx := context.Background()
	tr := newTestRegistry(t)
	c := tr.client()
	pub, priv := newKey(t)
	wasm := builtDir(t, "echo", "1.0.0", registry.KindWasm, wasmBytes("echo"), registry.Capabilities{KV: true}, priv)
	gp := builtDir(t, "echo", "1.0.0", registry.KindGoPlugin, selfExecutable(t), registry.Capabilities{KV: true}, priv)
	ref := tr.host() + "/plugins/echo:1.0.0"
	digest, m, err := c.Push(ctx, []Built{{Dir: wasm}, {Dir: gp, Platform: hostPlatform()}}, ref)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "echo" || !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("push: %s %s", m.Ref(), digest)
	}
	saved := filepath.Join(t.TempDir(), "echo.tar")
	if d, err := c.Save(ctx, ref, saved); err != nil || d != digest {
		t.Fatalf("save: %s %v (pushed %s)", d, err, digest)
	}

	cases := []struct {
		name, ref string
		form      registry.Kind
		file      bool
		source    string
	}{
		{name: "by tag, wasm preferred", ref: ref, form: "", source: ref},
		{name: "by digest", ref: tr.host() + "/plugins/echo@" + digest, form: registry.KindWasm, source: tr.host() + "/plugins/echo@" + digest},
		{name: "tag and digest", ref: ref + "@" + digest, form: registry.KindWasm, source: tr.host() + "/plugins/echo@" + digest},
		{name: "go-plugin form", ref: ref, form: registry.KindGoPlugin, source: ref},
		{name: "saved file", ref: saved, file: true, source: ref},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := openRegistry(t)
			o := trustOptions(pub)
			o.Form = tc.form
			var p *registry.Plugin
			var err error
			if tc.file {
				p, err = InstallFile(ctx, r, tc.ref, o)
			} else {
				p, err = c.Install(ctx, r, tc.ref, o)
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.form
			if want == "" {
				want = registry.KindWasm
			}
			if p.Manifest.Kind != want || p.Source != tc.source || p.SourceDigest != digest || p.SignedBy != registry.EncodePublicKey(pub) {
				t.Fatalf("installed %s/%s source %q digest %q signer %q; want %s, %q, %q", p.Ref(), p.Manifest.Kind, p.Source, p.SourceDigest, p.SignedBy, want, tc.source, digest)
			}
			again, err := r.Resolve("echo@1.0.0/" + string(want))
			if err != nil || again.Source != tc.source || again.SourceDigest != digest {
				t.Fatalf("reloaded install record: %+v %v", again, err)
			}
		})
	}
}

// TestRefusals: each bad input is refused with a precise error, and
// nothing is installed.
func TestRefusals(t *testing.T) {
	ctx := context.Background()
	tr := newTestRegistry(t)
	c := tr.client()
	pub, priv := newKey(t)
	otherPub, _ := newKey(t)
	push := func(t *testing.T, repo string, forms ...Built) (string, string) {
		t.Helper()
		ref := tr.host() + "/" + repo
		d, _, err := c.Push(ctx, forms, ref)
		if err != nil {
			t.Fatal(err)
		}
		return ref, d
	}
	signed := builtDir(t, "good", "1.0.0", registry.KindWasm, wasmBytes("good"), registry.Capabilities{HTTPHosts: []string{"api.example.com"}}, priv)
	goodRef, goodDigest := push(t, "p/good:1.0.0", Built{Dir: signed})
	layerDigest := func() string {
		idx, _, _, err := c.index(ctx, goodRef)
		if err != nil {
			t.Fatal(err)
		}
		im, _ := idx.IndexManifest()
		img, _ := idx.Image(im.Manifests[0].Digest)
		m, _ := img.Manifest()
		return m.Layers[0].Digest.String()
	}()
	// Another version of "good" under the same repository, to move the tag.
	moved := builtDir(t, "good", "1.0.0", registry.KindWasm, wasmBytes("tampered"), registry.Capabilities{HTTPHosts: []string{"api.example.com"}}, priv)

	viaProxy := func(t *testing.T, intercept func(http.ResponseWriter, *http.Request) bool, repo string) (*Client, string) {
		p := proxy(t, tr, intercept)
		return tr.client(), strings.TrimPrefix(p.URL, "http://") + "/" + repo
	}
	foreign := "arm64"
	if hostPlatform().Architecture == "arm64" {
		foreign = "amd64"
	}

	cases := []struct {
		name  string
		setup func(t *testing.T) (*Client, string, InstallOptions)
		is    error  // errors.Is, when set
		msg   string // in the error
	}{
		{
			name: "blob digest mismatch",
			setup: func(t *testing.T) (*Client, string, InstallOptions) {
				cl, ref := viaProxy(t, func(w http.ResponseWriter, r *http.Request) bool {
					if strings.HasSuffix(r.URL.Path, "/blobs/"+layerDigest) && r.Method == http.MethodGet {
						_, _ = w.Write(wasmBytes("evil"))
						return true
					}
					return false
				}, "p/good:1.0.0")
				return cl, ref, trustOptions(pub)
			},
			is: ErrDigest,
		},
		{
			name: "go-plugin for another platform only",
			setup: func(t *testing.T) (*Client, string, InstallOptions) {
				gp := builtDir(t, "armonly", "1.0.0", registry.KindGoPlugin, []byte("not for this hub"), registry.Capabilities{}, priv)
				plat := hostPlatform()
				plat.Architecture = foreign
				ref, _ := push(t, "p/armonly:1.0.0", Built{Dir: gp, Platform: plat})
				return c, ref, trustOptions(pub)
			},
			is: ErrNotRunnable, msg: "goplugin linux/" + foreign,
		},
		{
			name: "go-plugin form asked, only wasm offered",
			setup: func(t *testing.T) (*Client, string, InstallOptions) {
				o := trustOptions(pub)
				o.Form = registry.KindGoPlugin
				return c, goodRef, o
			},
			is: ErrNotRunnable,
		},
		{
			name: "executable for another machine than its platform says",
			setup: func(t *testing.T) (*Client, string, InstallOptions) {
				gp := builtDir(t, "liar", "1.0.0", registry.KindGoPlugin, []byte("\x7fELF not really"), registry.Capabilities{}, priv)
				ref, _ := push(t, "p/liar:1.0.0", Built{Dir: gp, Platform: hostPlatform()})
				return c, ref, trustOptions(pub)
			},
			is: ErrNotRunnable, msg: "not a Linux executable",
		},
		{
			name: "unsigned when signatures are required",
			setup: func(t *testing.T) (*Client, string, InstallOptions) {
				d := builtDir(t, "plain", "1.0.0", registry.KindWasm, wasmBytes("plain"), registry.Capabilities{}, nil)
				ref, _ := push(t, "p/plain:1.0.0", Built{Dir: d})
				return c, ref, trustOptions(pub)
			},
			msg: "is not signed, and signatures are required",
		},
		{
			name: "signed by an untrusted key",
			setup: func(t *testing.T) (*Client, string, InstallOptions) {
				return c, goodRef, trustOptions(otherPub)
			},
			msg: "does not verify with any of the 1 trusted keys",
		},
		{
			name: "capabilities wider than the grant",
			setup: func(t *testing.T) (*Client, string, InstallOptions) {
				o := trustOptions(pub)
				o.Granted = &registry.Capabilities{HTTPHosts: []string{"other.example.com"}}
				return c, goodRef, o
			},
			msg: `asks for capabilities not granted: http host "api.example.com"`,
		},
		{
			name: "tag moved to other content since pinned by digest",
			setup: func(t *testing.T) (*Client, string, InstallOptions) {
				// The tag now names tampered content; a registry that serves it
				// for the pinned digest is caught.
				push(t, "p/moved:1.0.0", Built{Dir: moved})
				cl, ref := viaProxy(t, func(w http.ResponseWriter, r *http.Request) bool {
					r.URL.Path = strings.Replace(r.URL.Path, "/p/good/manifests/"+goodDigest, "/p/moved/manifests/1.0.0", 1)
					return false
				}, "p/good@"+goodDigest)
				return cl, ref, trustOptions(pub)
			},
			is: ErrDigest,
		},
		{
			name: "401: wrong credentials",
			setup: func(t *testing.T) (*Client, string, InstallOptions) {
				cl := NewClient(Options{Keychain: staticKeychain{&authn.Basic{Username: "pusher", Password: "wrong-password-xyz"}}, RetrySteps: 1})
				return cl, goodRef, trustOptions(pub)
			},
			is: ErrUnauthorized,
		},
		{
			name: "404: no such tag",
			setup: func(t *testing.T) (*Client, string, InstallOptions) {
				return c, tr.host() + "/p/good:9.9.9", trustOptions(pub)
			},
			is: ErrNotFound,
		},
		{
			name: "429: rate limited",
			setup: func(t *testing.T) (*Client, string, InstallOptions) {
				cl, ref := viaProxy(t, func(w http.ResponseWriter, r *http.Request) bool {
					if strings.Contains(r.URL.Path, "/manifests/") {
						http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`, http.StatusTooManyRequests)
						return true
					}
					return false
				}, "p/good:1.0.0")
				return cl, ref, trustOptions(pub)
			},
			is: ErrRateLimited,
		},
		{
			name: "redirect to another host",
			setup: func(t *testing.T) (*Client, string, InstallOptions) {
				elsewhere := proxy(t, tr, func(http.ResponseWriter, *http.Request) bool { return false })
				cl, ref := viaProxy(t, func(w http.ResponseWriter, r *http.Request) bool {
					if strings.Contains(r.URL.Path, "/blobs/") {
						// 127.0.0.1 vs localhost: another host, the same machine.
						http.Redirect(w, r, strings.Replace(elsewhere.URL, "127.0.0.1", "localhost", 1)+r.URL.Path, http.StatusTemporaryRedirect)
						return true
					}
					return false
				}, "p/good:1.0.0")
				return cl, ref, trustOptions(pub)
			},
			is: ErrRedirect,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl, ref, o := tc.setup(t)
			r := openRegistry(t)
			_, err := cl.Install(ctx, r, ref, o)
			if err == nil {
				t.Fatal("installed; want a refusal")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %q is not %q", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not say %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), "s3cret-pass") || strings.Contains(err.Error(), "wrong-password-xyz") {
				t.Fatalf("error shows a credential: %q", err)
			}
			t.Logf("refused: %v", err)
			if got := r.List(); len(got) != 0 {
				t.Fatalf("installed %d plugins after a refusal", len(got))
			}
			if ents, _ := os.ReadDir(r.Dir()); len(ents) != 0 {
				t.Fatalf("left %d entries in %s", len(ents), r.Dir())
			}
		})
	}
}
