package oci

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/junctionhub/junction/core/plugin/registry"
)

// Save pulls ref and writes it, every form and platform, as an OCI image
// layout in one uncompressed tar file: what `junction plugin install FILE`
// reads on a site with no registry. The index keeps its digest (the
// layout's index.json names it, with ref as its ref.name), so the file
// installs with the same verification as a pull. It returns the digest.
func (c *Client) Save(ctx context.Context, ref, file string) (string, error) {
	idx, pinned, source, err := c.index(ctx, ref)
	if err != nil {
		return "", err
	}
	raw, err := idx.RawManifest()
	if err != nil {
		return "", c.wrap("save", ref, err)
	}
	if pinned != (v1.Hash{}) && hashOf(raw) != pinned {
		return "", fmt.Errorf("save %s: %w: index is %s", ref, ErrDigest, hashOf(raw))
	}
	tmp, err := os.MkdirTemp("", "junction-save-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return "", fmt.Errorf("save %s: %w", ref, err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{annotationRefName: source})); err != nil {
		return "", c.wrap("save", ref, classify(err))
	}
	if err := tarDir(tmp, file); err != nil {
		return "", fmt.Errorf("save %s: %w", ref, err)
	}
	return hashOf(raw).String(), nil
}

// IsLayoutFile reports whether path is a tar file holding an OCI image
// layout (what Save writes).
func IsLayoutFile(file string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for i := 0; i < maxLayoutEntries; i++ {
		h, err := tr.Next()
		if err != nil {
			return false
		}
		if path.Clean(h.Name) == "oci-layout" {
			return true
		}
	}
	return false
}

// InstallFile installs from a file written by Save, touching no network.
// The index's digest in the layout pins it: every digest is checked as for
// a pull, then the signature and capabilities by registry.Install.
func InstallFile(ctx context.Context, r *registry.Registry, file string, o InstallOptions) (*registry.Plugin, error) {
	tmp, err := os.MkdirTemp(r.Dir(), ".layout-")
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", file, err)
	}
	defer os.RemoveAll(tmp)
	if err := untar(file, tmp); err != nil {
		return nil, fmt.Errorf("install %s: %w", file, err)
	}
	root, err := layout.ImageIndexFromPath(tmp)
	if err != nil {
		return nil, fmt.Errorf("install %s: not an OCI image layout: %w", file, err)
	}
	im, err := root.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", file, err)
	}
	if len(im.Manifests) != 1 || !im.Manifests[0].MediaType.IsIndex() {
		return nil, fmt.Errorf("install %s: want one plugin index in the layout (junction plugin save writes one), found %d entries", file, len(im.Manifests))
	}
	d := im.Manifests[0]
	idx, err := root.ImageIndex(d.Digest)
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", file, err)
	}
	source := d.Annotations[annotationRefName]
	if source == "" {
		source = file
	}
	return installIndex(ctx, r, idx, d.Digest, source, o)
}

// Limits on a layout file: a plugin is a few blobs per platform.
const (
	maxLayoutEntries = 256
	maxLayoutBytes   = 2 << 30
)

func tarDir(dir, file string) error {
	out, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(out)
	err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := e.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime = 0, 0, "", "", fi.ModTime().UTC()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if cerr := tw.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(file)
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}

// untar unpacks regular files and directories only, refusing anything that
// would escape dest.
func untar(file, dest string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var total int64
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", file, err)
		}
		if n >= maxLayoutEntries {
			return fmt.Errorf("read %s: more than %d entries", file, maxLayoutEntries)
		}
		nm := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if nm == "." {
			continue
		}
		if path.IsAbs(nm) || nm == ".." || strings.HasPrefix(nm, "../") {
			return fmt.Errorf("read %s: entry %q escapes the layout", file, h.Name)
		}
		target := filepath.Join(dest, filepath.FromSlash(nm))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if total += h.Size; total > maxLayoutBytes {
				return fmt.Errorf("read %s: unpacks to more than %d MiB", file, maxLayoutBytes>>20)
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return fmt.Errorf("read %s: %w", file, err)
			}
			_, err = io.Copy(out, io.LimitReader(tr, h.Size))
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", file, err)
			}
		default:
			return fmt.Errorf("read %s: entry %q is not a regular file or directory", file, h.Name)
		}
	}
}
