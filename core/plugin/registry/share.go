package registry

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Pack writes the installed plugin p as a .tar.gz holding its manifest (as
// verified, with its signature) and its artifact at the root: what Install
// and InstallShared accept. The install record is left out: it says what
// this node decided, which another node decides for itself.
func Pack(p *Plugin, w io.Writer) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		mode int64
	}{{ManifestFile, 0o644}, {p.Manifest.Artifact.File, 0o755}} {
		if err := packFile(tw, filepath.Join(p.Dir, f.name), f.name, f.mode); err != nil {
			return fmt.Errorf("pack plugin %s: %w", p.ID(), err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("pack plugin %s: %w", p.ID(), err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("pack plugin %s: %w", p.ID(), err)
	}
	return nil
}

func packFile(tw *tar.Writer, path, name string, mode int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: fi.Size(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

// InstallShared installs the plugin packed in archive (as Pack writes it),
// which must be id (name@version/form), with every check Install makes:
// the archive's limits, the manifest, the artifact's sha256 and kind, the
// signature against o.TrustedKeys and o.RequireSignatures, and the
// builtin names. It is how a node installs what another node shared, and
// it trusts nothing about the archive but what it verifies itself.
func (r *Registry) InstallShared(ctx context.Context, archive io.Reader, id string, o InstallOptions) (*Plugin, error) {
	if r.readOnly {
		return nil, fmt.Errorf("install plugin %s: %w", id, errReadOnly)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("install plugin %s: %w", id, err)
	}
	tmp, err := os.MkdirTemp(r.root, ".shared-")
	if err != nil {
		return nil, fmt.Errorf("install plugin %s: %w", id, err)
	}
	defer os.RemoveAll(tmp)
	file := filepath.Join(tmp, "plugin.tar.gz")
	if err := writeLimited(file, archive, maxArchiveBytes); err != nil {
		return nil, fmt.Errorf("install plugin %s: %w", id, err)
	}
	dir, err := extractTarGz(file, filepath.Join(tmp, "x"))
	if err != nil {
		return nil, fmt.Errorf("install plugin %s: %w", id, err)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("install plugin %s: %w", id, err)
	}
	if got := m.Ref() + "/" + string(m.Kind); got != id {
		return nil, fmt.Errorf("install plugin %s: the archive holds %s", id, got)
	}
	p, err := r.installDir(dir, o, record{}, false)
	if err != nil {
		return nil, fmt.Errorf("install plugin %s: %w", id, err)
	}
	return p, nil
}

// writeLimited copies r to a new file, refusing more than limit bytes.
func writeLimited(path string, r io.Reader, limit int64) error {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, io.LimitReader(r, limit+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if n > limit {
		return fmt.Errorf("archive larger than %d MiB", limit>>20)
	}
	return nil
}
