package registry_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/plugin/registry"
)

var ctx = context.Background()

func TestInstallRefusesATamperedArtifact(t *testing.T) {
	r := open(t)
	dir := dist(t, "notifier", "1.0.0", registry.Capabilities{}, "the real binary")
	if err := os.WriteFile(filepath.Join(dir, "notifier"), []byte("something else"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := r.Install(ctx, dir, registry.InstallOptions{})
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch: manifest says ") || !strings.Contains(err.Error(), ", artifact is ") {
		t.Fatalf("err = %v, want a sha256 mismatch", err)
	}
	if n := len(r.List()); n != 0 {
		t.Errorf("%d plugins installed after a refused install", n)
	}
}

func TestInstallSignatures(t *testing.T) {
	trusted, trustedPriv := newKey(t)
	_, otherPriv := newKey(t)
	caps := registry.Capabilities{HTTPHosts: []string{"hooks.slack.com"}}
	tests := []struct {
		name    string
		sign    ed25519.PrivateKey
		tamper  func(t *testing.T, dir string) // after signing
		opts    registry.InstallOptions
		wantErr string
	}{
		{name: "signed by a trusted key", sign: trustedPriv,
			opts: registry.InstallOptions{TrustedKeys: []ed25519.PublicKey{trusted}, RequireSignatures: true}},
		{name: "unsigned when required",
			opts:    registry.InstallOptions{TrustedKeys: []ed25519.PublicKey{trusted}, RequireSignatures: true},
			wantErr: "is not signed, and signatures are required"},
		{name: "signed by an untrusted key", sign: otherPriv,
			opts:    registry.InstallOptions{TrustedKeys: []ed25519.PublicKey{trusted}},
			wantErr: "does not verify with any of the 1 trusted keys"},
		{name: "capability added after signing", sign: trustedPriv,
			tamper: func(t *testing.T, dir string) {
				m, err := registry.ReadManifest(dir)
				if err != nil {
					t.Fatal(err)
				}
				m.Capabilities.HTTPHosts = append(m.Capabilities.HTTPHosts, "evil.example.net")
				if err := registry.WriteManifest(dir, m); err != nil {
					t.Fatal(err)
				}
			},
			opts:    registry.InstallOptions{TrustedKeys: []ed25519.PublicKey{trusted}},
			wantErr: "does not verify"},
		{name: "required without trusted keys", sign: trustedPriv,
			opts:    registry.InstallOptions{RequireSignatures: true},
			wantErr: "no trusted keys are configured"},
		{name: "unsigned when not required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := open(t)
			dir := dist(t, "notifier", "1.0.0", caps, "binary")
			if tt.sign != nil {
				if _, err := registry.Sign(tt.sign, dir); err != nil {
					t.Fatal(err)
				}
			}
			if tt.tamper != nil {
				tt.tamper(t, dir)
			}
			p, err := r.Install(ctx, dir, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.sign != nil && p.SignedBy != registry.EncodePublicKey(trusted) {
				t.Errorf("SignedBy = %q, want the trusted key", p.SignedBy)
			}
		})
	}
}

func TestInstallCapabilities(t *testing.T) {
	asks := registry.Capabilities{HTTPHosts: []string{"hooks.slack.com", "api.example.com"}, KV: true, Secrets: []string{"token"}}
	tests := []struct {
		name    string
		granted *registry.Capabilities
		wantErr []string
	}{
		{name: "nil grants what is asked"},
		{name: "all granted, a wildcard covering a host",
			granted: &registry.Capabilities{HTTPHosts: []string{"hooks.slack.com", "*.example.com"}, KV: true, Secrets: []string{"token"}}},
		{name: "host, kv and secret missing",
			granted: &registry.Capabilities{HTTPHosts: []string{"hooks.slack.com"}},
			wantErr: []string{`http host "api.example.com"`, "kv", `secret "token"`}},
		{name: "a wildcard does not cover the bare domain",
			granted: &registry.Capabilities{HTTPHosts: []string{"*.hooks.slack.com", "api.example.com"}, KV: true, Secrets: []string{"token"}},
			wantErr: []string{`http host "hooks.slack.com"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := open(t)
			p, err := r.Install(ctx, dist(t, "notifier", "1.0.0", asks, "binary"), registry.InstallOptions{Granted: tt.granted})
			if len(tt.wantErr) > 0 {
				if err == nil || !strings.Contains(err.Error(), "capabilities not granted") {
					t.Fatalf("err = %v, want a capability refusal", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %s", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Granted.String(); got != "http:api.example.com,hooks.slack.com kv secrets:token" {
				t.Errorf("granted = %s", got)
			}
		})
	}
}

func TestVersionsSideBySide(t *testing.T) {
	r := open(t)
	for _, v := range []string{"0.2.0", "0.10.0", "0.9.1", "1.0.0-rc.1"} {
		if _, err := r.Install(ctx, dist(t, "notifier", v, registry.Capabilities{}, "binary "+v), registry.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, p := range r.List() {
		got = append(got, p.Ref())
		if b, err := os.ReadFile(p.ArtifactPath); err != nil || string(b) != "binary "+p.Manifest.Version {
			t.Errorf("%s artifact = %q, %v", p.Ref(), b, err)
		}
	}
	if strings.Join(got, " ") != "notifier@0.2.0 notifier@0.9.1 notifier@0.10.0 notifier@1.0.0-rc.1" {
		t.Errorf("List = %v", got)
	}
	resolve := map[string]string{
		"notifier":            "notifier@0.10.0", // the highest release, by semver not by string
		"notifier@0.2.0":      "notifier@0.2.0",
		"notifier@1.0.0-rc.1": "notifier@1.0.0-rc.1",
	}
	for ref, want := range resolve {
		p, err := r.Resolve(ref)
		if err != nil || p.Ref() != want {
			t.Errorf("Resolve(%s) = %v, %v; want %s", ref, p, err, want)
		}
	}
	if _, err := r.Resolve("notifier@0.3.0"); err == nil || !strings.Contains(err.Error(), "installed: 0.2.0/goplugin, 0.9.1/goplugin, 0.10.0/goplugin, 1.0.0-rc.1/goplugin") {
		t.Errorf("Resolve of a missing version: err = %v", err)
	}
	if _, err := r.Resolve("other"); err == nil {
		t.Error("Resolve(other) succeeded")
	}

	if err := r.Remove("notifier", "0.10.0"); err != nil {
		t.Fatal(err)
	}
	if p, err := r.Resolve("notifier"); err != nil || p.Ref() != "notifier@0.9.1" {
		t.Errorf("after removing 0.10.0, Resolve(notifier) = %v, %v", p, err)
	}
	if err := r.Remove("notifier", "0.10.0"); err == nil {
		t.Error("removing a version twice succeeded")
	}
	for _, v := range []string{"0.2.0", "0.9.1", "1.0.0-rc.1"} {
		if err := r.Remove("notifier", v); err != nil {
			t.Fatal(err)
		}
	}
	ents, _ := os.ReadDir(r.Dir())
	if len(ents) != 0 {
		t.Errorf("registry not empty after removing everything: %v", ents)
	}
}

func TestInstallSameVersion(t *testing.T) {
	r := open(t)
	first, err := r.Install(ctx, dist(t, "notifier", "1.0.0", registry.Capabilities{}, "v1"), registry.InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.Install(ctx, dist(t, "notifier", "1.0.0", registry.Capabilities{}, "v1"), registry.InstallOptions{})
	if err != nil || !again.InstalledAt.Equal(first.InstalledAt) {
		t.Errorf("reinstalling the same content: %v, %v", again, err)
	}
	_, err = r.Install(ctx, dist(t, "notifier", "1.0.0", registry.Capabilities{}, "v1, changed"), registry.InstallOptions{})
	if err == nil || !strings.Contains(err.Error(), "already installed with other content") {
		t.Fatalf("err = %v, want a refusal", err)
	}
}

func TestInstallTarGz(t *testing.T) {
	for _, prefix := range []string{"", "notifier-1.0.0/"} {
		r := open(t)
		p, err := r.Install(ctx, tarGz(t, dist(t, "notifier", "1.0.0", registry.Capabilities{}, "bin"), prefix), registry.InstallOptions{})
		if err != nil {
			t.Fatalf("prefix %q: %v", prefix, err)
		}
		if fi, err := os.Stat(p.ArtifactPath); err != nil || fi.Mode().Perm()&0o100 == 0 {
			t.Errorf("installed executable: %v, %v", fi, err)
		}
		ents, _ := os.ReadDir(r.Dir())
		if len(ents) != 1 {
			t.Errorf("staging left behind: %v", ents)
		}
	}
}

func TestInstallRefusesAnEscapingArchive(t *testing.T) {
	out := filepath.Join(t.TempDir(), "evil.tar.gz")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "../../escaped", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("x"))
	tw.Close()
	gz.Close()
	f.Close()
	_, err = open(t).Install(ctx, out, registry.InstallOptions{})
	if err == nil || !strings.Contains(err.Error(), "escapes the archive") {
		t.Fatalf("err = %v", err)
	}
}

func TestInstallRefusesAWrongKind(t *testing.T) {
	dir := dist(t, "notifier", "1.0.0", registry.Capabilities{}, "not wasm")
	m, _ := registry.ReadManifest(dir)
	m.Kind = registry.KindWasm
	registry.WriteManifest(dir, m)
	_, err := open(t).Install(ctx, dir, registry.InstallOptions{})
	if err == nil || !strings.Contains(err.Error(), "not a Wasm module") {
		t.Fatalf("err = %v", err)
	}
}

func TestManifestRejects(t *testing.T) {
	tests := map[string]string{
		"bad name":    "name: Bad/Name\nversion: 1.0.0\nkind: wasm\n",
		"bad version": "name: x\nversion: 1.0\nkind: wasm\n",
		"bad kind":    "name: x\nversion: 1.0.0\nkind: dll\n",
		"unknown key": "name: x\nversion: 1.0.0\nkind: wasm\ncapabilites: {}\n",
		"bad host":    "name: x\nversion: 1.0.0\nkind: wasm\ncapabilities: {http_hosts: [\"https://x.com\"]}\n",
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, registry.ManifestFile), []byte(text), 0o644)
			if _, err := registry.ReadManifest(dir); err == nil {
				t.Errorf("ReadManifest accepted %q", text)
			}
		})
	}
}

func TestKeyFiles(t *testing.T) {
	pub, priv := newKey(t)
	path := filepath.Join(t.TempDir(), "signing.key")
	if err := registry.WritePrivateKey(path, priv); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode().Perm())
	}
	if err := registry.WritePrivateKey(path, priv); err == nil {
		t.Error("overwrote an existing key file")
	}
	got, err := registry.ReadPrivateKey(path)
	if err != nil || !got.Equal(priv) {
		t.Fatalf("ReadPrivateKey: %v", err)
	}
	k, err := registry.ParsePublicKey("ed25519:" + registry.EncodePublicKey(pub))
	if err != nil || !k.Equal(pub) {
		t.Errorf("ParsePublicKey: %v", err)
	}
}
