package registry_test

import (
	"archive/tar"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/junctionhub/junction/core/plugin/registry"
)

// dist writes a built plugin directory: an artifact with content and a
// manifest whose checksum matches it.
func dist(t *testing.T, name, version string, caps registry.Capabilities, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(content))
	m := &registry.Manifest{
		Name: name, Version: version, Kind: registry.KindGoPlugin,
		Connector:    registry.ConnectorSummary{Direction: "outbound", Roles: []string{"perform"}, Actions: []string{"notify"}},
		Capabilities: caps,
		Artifact:     registry.Artifact{File: name, SHA256: hex.EncodeToString(sum[:])},
	}
	if err := registry.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	return dir
}

func open(t *testing.T) *registry.Registry {
	t.Helper()
	r, err := registry.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// tarGz packs dir's files into a .tar.gz, under prefix (e.g. "pkg/").
func tarGz(t *testing.T, dir, prefix string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "plugin.tar.gz")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: prefix + e.Name(), Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []interface{ Close() error }{tw, gz, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
