package registry

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Limits on what a plugin archive may unpack to: a plugin is a manifest and
// one artifact, so anything far larger is a mistake or an attack.
const (
	maxArchiveBytes   = 512 << 20
	maxArchiveEntries = 64
)

// extractTarGz unpacks archive into dest and returns the directory holding
// the manifest: dest itself, or its one top-level folder. Only regular files
// and directories are unpacked; absolute paths, "..", links and devices are
// refused.
func extractTarGz(archive, dest string) (string, error) {
	f, err := os.Open(archive)
	if err != nil {
		return "", err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", archive, err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	var total int64
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("read %s: %w", archive, err)
		}
		if n >= maxArchiveEntries {
			return "", fmt.Errorf("read %s: more than %d entries", archive, maxArchiveEntries)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." {
			continue
		}
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return "", fmt.Errorf("read %s: entry %q escapes the archive", archive, h.Name)
		}
		target := filepath.Join(dest, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return "", err
			}
		case tar.TypeReg:
			total += h.Size
			if total > maxArchiveBytes {
				return "", fmt.Errorf("read %s: unpacks to more than %d MiB", archive, maxArchiveBytes>>20)
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return "", err
			}
			out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return "", fmt.Errorf("read %s: %w", archive, err)
			}
			_, err = io.Copy(out, io.LimitReader(tr, h.Size))
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return "", fmt.Errorf("read %s: %w", archive, err)
			}
		default:
			return "", fmt.Errorf("read %s: entry %q is not a regular file or directory", archive, h.Name)
		}
	}
	if _, err := os.Stat(filepath.Join(dest, ManifestFile)); err == nil {
		return dest, nil
	}
	ents, err := os.ReadDir(dest)
	if err != nil {
		return "", err
	}
	if len(ents) == 1 && ents[0].IsDir() {
		sub := filepath.Join(dest, ents[0].Name())
		if _, err := os.Stat(filepath.Join(sub, ManifestFile)); err == nil {
			return sub, nil
		}
	}
	return "", fmt.Errorf("%s holds no %s at its root or in one top-level folder", archive, ManifestFile)
}
