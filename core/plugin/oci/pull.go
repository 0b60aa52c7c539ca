package oci

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/junctionhub/junction/core/plugin/registry"
)

// InstallOptions are registry.InstallOptions (trusted keys, the signature
// policy, the grant) and the form to install.
type InstallOptions struct {
	registry.InstallOptions
	// Form is wasm or goplugin; "" takes Wasm when offered, else the
	// go-plugin executable for this platform.
	Form registry.Kind
}

// Install pulls ref (registry/repo:tag or registry/repo@sha256:...),
// verifies it and installs it into r with the same checks as a local
// install. The source reference and the index digest are recorded.
// Nothing is installed when any check fails.
func (c *Client) Install(ctx context.Context, r *registry.Registry, ref string, o InstallOptions) (*registry.Plugin, error) {
	idx, pinned, nref, err := c.index(ctx, ref)
	if err != nil {
		return nil, err
	}
	return installIndex(ctx, r, idx, pinned, nref, o)
}

// index fetches the index ref names; pinned is its digest when ref names
// one.
func (c *Client) index(ctx context.Context, ref string) (v1.ImageIndex, v1.Hash, string, error) {
	nref, err := parseRef(ref)
	if err != nil {
		return nil, v1.Hash{}, "", err
	}
	var pinned v1.Hash
	if d, ok := nref.(name.Digest); ok {
		if pinned, err = v1.NewHash(d.DigestStr()); err != nil {
			return nil, v1.Hash{}, "", fmt.Errorf("reference %q: %w", ref, err)
		}
	}
	desc, err := remote.Get(nref, c.remoteOptions(ctx)...)
	if err != nil {
		return nil, v1.Hash{}, "", c.wrap("pull", ref, classify(err))
	}
	if !desc.MediaType.IsIndex() {
		return nil, v1.Hash{}, "", fmt.Errorf("pull %s: %s is a %s, not a plugin index (push it with junction plugin push)", ref, desc.Digest, desc.MediaType)
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, v1.Hash{}, "", c.wrap("pull", ref, classify(err))
	}
	return &wrappedIndex{index: idx, c: c, ref: ref}, pinned, nref.String(), nil
}

// installIndex stages idx in a hidden directory of the registry and
// installs it.
func installIndex(ctx context.Context, r *registry.Registry, idx v1.ImageIndex, pinned v1.Hash, source string, o InstallOptions) (*registry.Plugin, error) {
	tmp, err := os.MkdirTemp(r.Dir(), ".pull-")
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", source, err)
	}
	defer os.RemoveAll(tmp)
	st, err := stage(idx, pinned, o.Form, tmp)
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", source, classify(err))
	}
	io := o.InstallOptions
	io.Origin = registry.Origin{Source: source, SourceDigest: st.Digest}
	p, err := r.Install(ctx, st.Dir, io)
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", source, stagedPathError{err: err, prefix: "install plugin " + st.Dir + ": "})
	}
	return p, nil
}

// classify marks go-containerregistry's own verification failures as
// ErrDigest, so every digest refusal is one error to test for.
func classify(err error) error {
	if err == nil || errors.Is(err, ErrDigest) {
		return err
	}
	msg := err.Error()
	if strings.Contains(msg, "error verifying") || strings.Contains(msg, "does not match requested digest") {
		return fmt.Errorf("%w: %w", ErrDigest, err)
	}
	return err
}

// index lets wrappedIndex embed v1.ImageIndex, whose method of that name
// would clash with the embedded field's.
type index = v1.ImageIndex

// wrappedIndex maps the errors of lazily fetched children (images, blobs)
// like those of the index itself.
type wrappedIndex struct {
	index
	c   *Client
	ref string
}

func (w *wrappedIndex) Image(h v1.Hash) (v1.Image, error) {
	img, err := w.index.Image(h)
	if err != nil {
		return nil, w.c.wrap("pull", w.ref, classify(err))
	}
	return &wrappedImage{Image: img, w: w}, nil
}

type wrappedImage struct {
	v1.Image
	w *wrappedIndex
}

func (i *wrappedImage) RawConfigFile() ([]byte, error) {
	b, err := i.Image.RawConfigFile()
	return b, i.w.c.wrap("pull", i.w.ref, classify(err))
}

func (i *wrappedImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := i.Image.LayerByDigest(h)
	return l, i.w.c.wrap("pull", i.w.ref, classify(err))
}

// Push assembles the index of the built forms and pushes it to ref (a
// tag). It returns the index digest.
func (c *Client) Push(ctx context.Context, forms []Built, ref string) (string, *registry.Manifest, error) {
	nref, err := parseRef(ref)
	if err != nil {
		return "", nil, err
	}
	if _, ok := nref.(name.Tag); !ok {
		return "", nil, fmt.Errorf("push %s: push to a tag (registry/repo:version); the digest is computed", ref)
	}
	idx, m, err := NewIndex(forms)
	if err != nil {
		return "", nil, fmt.Errorf("push %s: %w", ref, err)
	}
	if err := remote.WriteIndex(nref, idx, c.remoteOptions(ctx)...); err != nil {
		return "", nil, c.wrap("push", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		return "", nil, err
	}
	return d.String(), m, nil
}

// stagedPathError drops the temporary directory registry.Install names
// from its message: the user installed a reference, not that directory.
type stagedPathError struct {
	err    error
	prefix string
}

func (e stagedPathError) Error() string { return strings.TrimPrefix(e.err.Error(), e.prefix) }
func (e stagedPathError) Unwrap() error { return e.err }
