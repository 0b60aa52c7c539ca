package oci

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/junctionhub/junction/core/plugin/registry"
)

// TestBlobRedirect: a registry that sends blob downloads to a storage host
// (as GHCR and ECR do) works when that host is listed in BlobHosts, and
// the registry's credentials never reach the storage host; unlisted, the
// same redirect is refused; a listed host does not let a manifest request
// be redirected.
func TestBlobRedirect(t *testing.T) {
	ctx := context.Background()
	tr := newTestRegistry(t)
	pub, priv := newKey(t)
	d := builtDir(t, "stored", "1.0.0", registry.KindWasm, wasmBytes("stored"), registry.Capabilities{}, priv)
	if _, _, err := tr.client().Push(ctx, []Built{{Dir: d}}, tr.host()+"/p/stored:1.0.0"); err != nil {
		t.Fatal(err)
	}
	// The storage host serves blobs by itself holding the right to read
	// them (a pre-signed URL, in real life): it adds the registry's
	// credentials on its own side and records any Authorization it got.
	var leaked atomic.Bool
	target, _ := url.Parse(tr.srv.URL)
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
		forward(w, r, target, func(r2 *http.Request) { r2.SetBasicAuth(tr.user, tr.pass) })
	}))
	t.Cleanup(storage.Close)
	// 127.0.0.1 vs localhost: another host, the same machine.
	storageURL := strings.Replace(storage.URL, "127.0.0.1", "localhost", 1)
	redirectOn := func(part string) string {
		p := proxy(t, tr, func(w http.ResponseWriter, r *http.Request) bool {
			if strings.Contains(r.URL.Path, part) {
				http.Redirect(w, r, storageURL+r.URL.Path, http.StatusTemporaryRedirect)
				return true
			}
			return false
		})
		return strings.TrimPrefix(p.URL, "http://") + "/p/stored:1.0.0"
	}
	client := func(hosts ...string) *Client {
		return NewClient(Options{Keychain: staticKeychain{&authn.Basic{Username: tr.user, Password: tr.pass}}, RetrySteps: 1, BlobHosts: hosts})
	}
	cases := []struct {
		name   string
		part   string
		hosts  []string
		refuse bool
	}{
		{name: "blob to a listed host", part: "/blobs/", hosts: []string{"localhost"}},
		{name: "blob to an unlisted host", part: "/blobs/", hosts: []string{"storage.example.com"}, refuse: true},
		{name: "manifest to a listed host", part: "/manifests/", hosts: []string{"localhost"}, refuse: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leaked.Store(false)
			r := openRegistry(t)
			_, err := client(tc.hosts...).Install(ctx, r, redirectOn(tc.part), trustOptions(pub))
			switch {
			case tc.refuse && !errors.Is(err, ErrRedirect):
				t.Fatalf("install: %v, want ErrRedirect", err)
			case !tc.refuse && err != nil:
				t.Fatalf("install: %v", err)
			case !tc.refuse && len(r.List()) != 1:
				t.Fatalf("installed %d plugins, want 1", len(r.List()))
			}
			if leaked.Load() {
				t.Error("the registry's credentials reached the storage host")
			}
		})
	}
}

func TestBlobAllowed(t *testing.T) {
	tp := &sameHostTransport{blobHosts: []string{"pkg-containers.example.com", ".blob.example.net"}}
	cases := []struct {
		method, from, to string
		want             bool
	}{
		{"GET", "https://r.example.com/v2/p/blobs/sha256:ab", "https://pkg-containers.example.com/x", true},
		{"GET", "https://r.example.com/v2/p/blobs/sha256:ab", "https://acct.blob.example.net/x", true},
		{"GET", "https://r.example.com/v2/p/blobs/sha256:ab", "https://blob.example.net.evil.com/x", false},
		{"GET", "https://r.example.com/v2/p/blobs/sha256:ab", "http://pkg-containers.example.com/x", false},
		{"GET", "https://r.example.com/v2/p/manifests/1.0.0", "https://pkg-containers.example.com/x", false},
		{"PUT", "https://r.example.com/v2/p/blobs/sha256:ab", "https://pkg-containers.example.com/x", false},
		{"GET", "https://r.example.com/v2/p/blobs/sha256:ab", "https://other.example.com/x", false},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, tc.from, nil)
		loc, _ := url.Parse(tc.to)
		if got := tp.blobAllowed(req, loc); got != tc.want {
			t.Errorf("%s %s -> %s: allowed %v, want %v", tc.method, tc.from, tc.to, got, tc.want)
		}
	}
}
