package oci

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/junctionhub/junction/core/plugin/registry"
)

// wasmBytes is enough of a Wasm module for the installer, which checks the
// magic number and the sha256 (it never runs what it installs).
func wasmBytes(tag string) []byte {
	return append([]byte("\x00asm\x01\x00\x00\x00"), []byte(tag)...)
}

// builtDir writes a built plugin directory as `junction plugin build`
// would: the manifest with the artifact's sha256, signed with priv when
// it is not nil.
func builtDir(t *testing.T, name, version string, kind registry.Kind, art []byte, caps registry.Capabilities, priv ed25519.PrivateKey) string {
	t.Helper()
	dir := t.TempDir()
	file := name
	if kind == registry.KindWasm {
		file += ".wasm"
	}
	if err := os.WriteFile(filepath.Join(dir, file), art, 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(art)
	m := &registry.Manifest{Name: name, Version: version, Kind: kind, Capabilities: caps,
		Artifact: registry.Artifact{File: file, SHA256: hex.EncodeToString(sum[:])}}
	if err := registry.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	if priv != nil {
		if _, err := registry.Sign(priv, dir); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// selfExecutable is an ELF executable for this platform: the test binary.
func selfExecutable(t *testing.T) []byte {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hostPlatform() v1.Platform { return v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH} }

func newKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// testRegistry is an in-process OCI registry on loopback behind basic auth.
type testRegistry struct {
	srv        *httptest.Server
	user, pass string
}

func newTestRegistry(t *testing.T) *testRegistry {
	t.Helper()
	tr := &testRegistry{user: "pusher", pass: "s3cret-pass"}
	inner := ggcrregistry.New(ggcrregistry.Logger(discardLogger()))
	tr.srv = httptest.NewServer(basicAuth(tr.user, tr.pass, inner))
	t.Cleanup(tr.srv.Close)
	return tr
}

// host is the registry's host:port, as a reference starts.
func (tr *testRegistry) host() string { return strings.TrimPrefix(tr.srv.URL, "http://") }

func (tr *testRegistry) client() *Client {
	return NewClient(Options{Keychain: staticKeychain{&authn.Basic{Username: tr.user, Password: tr.pass}}, RetrySteps: 1})
}

func basicAuth(user, pass string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// proxy puts a handler in front of the test registry that may answer a
// request itself (return true) instead of forwarding it.
func proxy(t *testing.T, to *testRegistry, intercept func(w http.ResponseWriter, r *http.Request) bool) *httptest.Server {
	t.Helper()
	target, _ := url.Parse(to.srv.URL)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if intercept(w, r) {
			return
		}
		forward(w, r, target, nil)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// forward sends r on to target, after edit (if any) has changed the copy,
// and copies the answer back to w.
func forward(w http.ResponseWriter, r *http.Request, target *url.URL, edit func(*http.Request)) {
	r2 := r.Clone(r.Context())
	r2.RequestURI, r2.URL.Scheme, r2.URL.Host = "", target.Scheme, target.Host
	if edit != nil {
		edit(r2)
	}
	resp, err := http.DefaultTransport.RoundTrip(r2)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = copyBody(w, resp)
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

func copyBody(w io.Writer, resp *http.Response) (int64, error) { return io.Copy(w, resp.Body) }
