// Package oci distributes connector plugins through OCI registries (GHCR,
// ECR, Harbor, a plain registry:2) and OCI image-layout files, with
// github.com/google/go-containerregistry as the client.
//
// A plugin version is one OCI image index (the tag names the version):
//
//	index  application/vnd.oci.image.index.v1+json
//	  annotations: org.opencontainers.image.title=<name>, org.opencontainers.image.version=<version>
//	  manifests[]: one per form and platform, each with a platform and the
//	               annotation dev.junction.plugin.form=<wasm|goplugin>
//	    wasm      platform wasip1/wasm
//	    goplugin  platform linux/amd64, linux/arm64, ...
//
//	image manifest  application/vnd.oci.image.manifest.v1+json
//	  artifactType: application/vnd.junction.plugin.v1
//	  config: application/vnd.junction.plugin.config.v1+yaml  junction-plugin.yaml, without its signature
//	  layers[0]: application/vnd.junction.plugin.wasm.v1     the Wasm module, or
//	             application/vnd.junction.plugin.goplugin.v1 the executable (the config's artifact.file names it)
//	  annotations: dev.junction.plugin.signature=<base64 ed25519, see registry.SignedMessage>
//	               dev.junction.plugin.signer=<base64 public key, informational>
//
// Pulling verifies every digest itself (index, image manifest, config and
// layer) whatever the source, picks the form and platform this hub runs,
// then writes the manifest (signature restored) and artifact into a
// temporary directory in the layout `junction plugin build` writes and
// installs it with registry.Install: one set of checks (sha256, signature,
// trusted keys, require_signatures, capabilities against the grant) for a
// local and a pulled plugin alike.
package oci

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Media types and annotations of the plugin artifact.
const (
	ArtifactType       = "application/vnd.junction.plugin.v1"
	ConfigMediaType    = "application/vnd.junction.plugin.config.v1+yaml"
	WasmMediaType      = "application/vnd.junction.plugin.wasm.v1"
	GoPluginMediaType  = "application/vnd.junction.plugin.goplugin.v1"
	AnnotationForm     = "dev.junction.plugin.form"
	AnnotationSig      = "dev.junction.plugin.signature"
	AnnotationSigner   = "dev.junction.plugin.signer"
	annotationTitle    = "org.opencontainers.image.title"
	annotationVersion  = "org.opencontainers.image.version"
	annotationRefName  = "org.opencontainers.image.ref.name"
	envRegistryUser    = "JUNCTION_REGISTRY_USERNAME"
	envRegistryPass    = "JUNCTION_REGISTRY_PASSWORD"
	maxManifestBytes   = 4 << 20
	maxArtifactBytes   = 512 << 20
	wasmPlatformOS     = "wasip1"
	wasmPlatformArch   = "wasm"
	defaultRetrySteps  = 3
	redactedCredential = "[REDACTED]"
)

// Errors a caller (and a test) can tell apart.
var (
	ErrUnauthorized = errors.New("registry refused the credentials (401)")
	ErrForbidden    = errors.New("registry denied access (403)")
	ErrNotFound     = errors.New("not found in the registry (404)")
	ErrRateLimited  = errors.New("registry rate limit reached (429)")
	ErrRedirect     = errors.New("registry redirected to another host (a blob host it may send downloads to is listed in " + EnvBlobHosts + ")")
	ErrDigest       = errors.New("digest mismatch")
	ErrNotRunnable  = errors.New("not runnable on this hub")
)

// Client talks to registries. The zero value is not usable: call NewClient.
type Client struct {
	keychain  authn.Keychain
	transport http.RoundTripper
	blobHosts []string
	steps     int
	secrets   []string // credential values to scrub from errors
}

// Options configure a Client.
type Options struct {
	// Keychain resolves credentials; nil means the environment
	// (JUNCTION_REGISTRY_USERNAME/PASSWORD) first, then the Docker config
	// and its credential helpers (authn.DefaultKeychain).
	Keychain authn.Keychain
	// Transport is the base HTTP transport; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// RetrySteps is how many times a request answered 408/429/5xx is tried
	// (with backoff); 0 means 3, 1 means no retry.
	RetrySteps int
	// BlobHosts are the hosts a registry may redirect a blob download to
	// (GHCR, ECR and Docker Hub serve blobs from a storage host): an exact
	// host, or ".example.com" for any host under it. nil means the
	// environment's EnvBlobHosts. Any other redirect to another host is
	// refused.
	BlobHosts []string
}

// EnvBlobHosts is the environment variable listing, comma-separated, the
// hosts a registry may redirect blob downloads to.
const EnvBlobHosts = "JUNCTION_REGISTRY_BLOB_HOSTS"

// NewClient returns a Client. Redirects to another host are always refused.
func NewClient(o Options) *Client {
	c := &Client{keychain: o.Keychain, transport: o.Transport, steps: o.RetrySteps, blobHosts: o.BlobHosts}
	if c.blobHosts == nil {
		for _, h := range strings.Split(os.Getenv(EnvBlobHosts), ",") {
			if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
				c.blobHosts = append(c.blobHosts, h)
			}
		}
	}
	if c.transport == nil {
		c.transport = http.DefaultTransport
	}
	if c.steps <= 0 {
		c.steps = defaultRetrySteps
	}
	if c.keychain == nil {
		user, pass := os.Getenv(envRegistryUser), os.Getenv(envRegistryPass)
		if user != "" || pass != "" {
			c.keychain = authn.NewMultiKeychain(staticKeychain{&authn.Basic{Username: user, Password: pass}}, authn.DefaultKeychain)
			c.secrets = append(c.secrets, pass)
		} else {
			c.keychain = authn.DefaultKeychain
		}
	}
	return c
}

// staticKeychain answers every registry with one authenticator (the
// environment's credentials).
type staticKeychain struct{ a authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.a, nil }

// remoteOptions are the options of every remote call.
func (c *Client) remoteOptions(ctx context.Context) []remote.Option {
	b := remote.Backoff{Duration: 1e9, Factor: 3, Jitter: 0.1, Steps: c.steps}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(c.keychain),
		remote.WithTransport(&sameHostTransport{base: c.transport, blobHosts: c.blobHosts}),
		remote.WithRetryBackoff(b),
		remote.WithUserAgent("junction-plugin"),
	}
}

// sameHostTransport turns a redirect to another host into an error before
// the HTTP client follows it: a registry must serve its own blobs, so a
// compromised or misconfigured registry cannot send the client (and, for a
// naive client, its credentials) elsewhere.
//
// A blob download may go to a host listed in BlobHosts, without a scheme
// downgrade: blobs are addressed by digest and every digest is checked
// after the download, so the storage host cannot change what is
// installed, and the auth transport adds the registry's credentials only
// to the registry's own host.
type sameHostTransport struct {
	base      http.RoundTripper
	blobHosts []string
}

func (t *sameHostTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode < 300 || resp.StatusCode >= 400 {
		return resp, err
	}
	loc, lerr := resp.Location()
	if lerr != nil || loc.Host == "" || loc.Host == req.URL.Host {
		return resp, err
	}
	if t.blobAllowed(req, loc) {
		return resp, err
	}
	_ = resp.Body.Close()
	return nil, fmt.Errorf("%w: %s answered %d to %s", ErrRedirect, req.URL.Host, resp.StatusCode, loc.Host)
}

// parseRef reads registry/repo:tag or registry/repo@sha256:... (a tag and
// a digest together pin the digest).
func parseRef(s string) (name.Reference, error) {
	if base, dig, ok := strings.Cut(s, "@"); ok {
		// repo:tag@digest: the digest decides, the tag is dropped.
		if slash, colon := strings.LastIndex(base, "/"), strings.LastIndex(base, ":"); colon > slash && slash > 0 {
			s = base[:colon] + "@" + dig
		}
		d, err := name.NewDigest(s, name.StrictValidation)
		if err != nil {
			return nil, fmt.Errorf("reference %q: %w", s, err)
		}
		return d, nil
	}
	t, err := name.NewTag(s, name.StrictValidation)
	if err != nil {
		return nil, fmt.Errorf("reference %q: want registry/repository:tag or registry/repository@sha256:<hex>: %w", s, err)
	}
	return t, nil
}

// IsReference reports whether s reads as a registry reference (a registry
// host with a dot, a port or "localhost", a repository, and a tag or
// digest), as opposed to a local path.
func IsReference(s string) bool {
	host, _, ok := strings.Cut(s, "/")
	if !ok || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return false
	}
	_, err := parseRef(s)
	return err == nil
}

// wrap maps a registry failure to a precise error and scrubs credentials.
func (c *Client) wrap(op, ref string, err error) error {
	if err == nil {
		return nil
	}
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized:
			err = fmt.Errorf("%w: log in (docker login, a credential helper) or set %s and %s", ErrUnauthorized, envRegistryUser, envRegistryPass)
		case http.StatusForbidden:
			err = fmt.Errorf("%w: the credentials lack pull/push rights on this repository", ErrForbidden)
		case http.StatusNotFound:
			err = fmt.Errorf("%w: check the repository, tag or digest", ErrNotFound)
		case http.StatusTooManyRequests:
			err = fmt.Errorf("%w: try again later, or log in for a higher limit", ErrRateLimited)
		}
	}
	msg := fmt.Errorf("%s %s: %w", op, ref, err)
	for _, s := range c.secrets {
		if s != "" && strings.Contains(msg.Error(), s) {
			return redactedError{err: msg, secret: s}
		}
	}
	return msg
}

// redactedError keeps the chain (errors.Is still works) but never prints a
// credential.
type redactedError struct {
	err    error
	secret string
}

func (e redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.secret, redactedCredential)
}
func (e redactedError) Unwrap() error { return e.err }

// blobAllowed says whether a redirect of req to loc is a blob download
// sent to a listed storage host, with no downgrade from https.
func (t *sameHostTransport) blobAllowed(req *http.Request, loc *url.URL) bool {
	if req.Method != http.MethodGet || !strings.Contains(req.URL.Path, "/blobs/sha256:") {
		return false
	}
	if req.URL.Scheme == "https" && loc.Scheme != "https" {
		return false
	}
	host := strings.ToLower(loc.Hostname())
	for _, h := range t.blobHosts {
		if host == h || strings.HasPrefix(h, ".") && strings.HasSuffix(host, h) {
			return true
		}
	}
	return false
}
