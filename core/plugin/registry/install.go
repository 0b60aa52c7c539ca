package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/names"
)

// Install verifies the plugin at path and installs it. path is one of:
//   - a built plugin directory: a manifest with its artifact (what
//     `junction plugin build` writes to DIR/dist);
//   - a .tar.gz (or .tgz) of such a directory, at its root or in one
//     top-level folder;
//   - a plugin source directory (a manifest and Go sources): it is built
//     first, which needs the Go toolchain.
//
// Install refuses an artifact whose sha256 differs from the manifest's, a
// signature that does not verify with a trusted key, an unsigned plugin
// when signatures are required, a capability not granted, and a version
// that is already installed in the same form with other content (the other
// form of the same version installs beside it), and a name that belongs to
// a builtin connector or a group of builtin tasks (names.Taken). Installing
// the same content again returns the installed plugin.
func (r *Registry) Install(ctx context.Context, path string, o InstallOptions) (*Plugin, error) {
	if r.readOnly {
		return nil, fmt.Errorf("install plugin %s: %w", path, errReadOnly)
	}
	src, cleanup, err := r.stage(ctx, path, o.Progress)
	if err != nil {
		return nil, fmt.Errorf("install plugin %s: %w", path, err)
	}
	defer cleanup()
	p, err := r.installDir(src, o, record{Origin: o.Origin}, false)
	if err != nil {
		return nil, fmt.Errorf("install plugin %s: %w", path, err)
	}
	return p, nil
}

// stage returns a directory holding a manifest and its artifact for path.
func (r *Registry) stage(ctx context.Context, path string, progress io.Writer) (dir string, cleanup func(), err error) {
	noop := func() {}
	fi, err := os.Stat(path)
	if err != nil {
		return "", noop, err
	}
	if !fi.IsDir() {
		if !strings.HasSuffix(path, ".tar.gz") && !strings.HasSuffix(path, ".tgz") {
			return "", noop, errors.New("want a plugin directory or a .tar.gz of one")
		}
		tmp, err := os.MkdirTemp(r.root, ".unpack-")
		if err != nil {
			return "", noop, err
		}
		cleanup = func() { _ = os.RemoveAll(tmp) }
		dir, err := extractTarGz(path, tmp)
		if err != nil {
			cleanup()
			return "", noop, err
		}
		return dir, cleanup, nil
	}
	m, err := ReadManifest(path)
	if err != nil {
		return "", noop, err
	}
	if err := names.Taken(m.Name); err != nil {
		return "", noop, err // before a build that could only be thrown away
	}
	if m.Artifact.File != "" {
		if _, err := os.Stat(filepath.Join(path, m.Artifact.File)); err == nil {
			return path, noop, nil
		}
	}
	if !hasGoSources(path) {
		if m.Artifact.File != "" {
			return "", noop, fmt.Errorf("artifact %s is missing next to the manifest", m.Artifact.File)
		}
		return "", noop, errors.New("the manifest names no artifact and there are no Go sources to build one from")
	}
	tmp, err := os.MkdirTemp(r.root, ".build-")
	if err != nil {
		return "", noop, err
	}
	cleanup = func() { _ = os.RemoveAll(tmp) }
	if _, err := BuildDist(ctx, path, filepath.Join(tmp, artifactName(m)), progress); err != nil {
		cleanup()
		return "", noop, err
	}
	return tmp, cleanup, nil
}

func hasGoSources(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
			return true
		}
	}
	return false
}

// artifactName is the file name a build gives the artifact.
func artifactName(m *Manifest) string {
	if m.Kind == KindWasm {
		return m.Name + ".wasm"
	}
	return m.Name
}

// installDir verifies the built plugin in src and moves a copy into place.
// replace allows overwriting an installed version with other content (a
// bundled plugin rebuilt from changed sources).
func (r *Registry) installDir(src string, o InstallOptions, rec record, replace bool) (*Plugin, error) {
	m, err := ReadManifest(src)
	if err != nil {
		return nil, err
	}
	if err := names.Taken(m.Name); err != nil {
		return nil, err
	}
	if err := m.checkArtifact(); err != nil {
		return nil, fmt.Errorf("%s: %w", m.Ref(), err)
	}
	artifact := filepath.Join(src, m.Artifact.File)
	if err := verifyChecksum(m, artifact); err != nil {
		return nil, fmt.Errorf("%s: %w", m.Ref(), err)
	}
	if err := checkKind(m, artifact); err != nil {
		return nil, fmt.Errorf("%s: %w", m.Ref(), err)
	}
	switch {
	case m.Signature != "" && len(o.TrustedKeys) > 0:
		k, err := verifySignature(m, o.TrustedKeys)
		if err != nil {
			return nil, err
		}
		rec.SignedBy = EncodePublicKey(k)
	case o.RequireSignatures && len(o.TrustedKeys) == 0:
		return nil, fmt.Errorf("%s: signatures are required (settings require_signatures) but no trusted keys are configured: add the signer's public key to settings trusted_keys (junction plugin keygen prints one)", m.Ref())
	case o.RequireSignatures:
		return nil, fmt.Errorf("%s is not signed, and signatures are required (settings require_signatures): sign the built plugin with `junction plugin sign --key KEY DIR/dist` (a key from `junction plugin keygen`, its public half in settings trusted_keys) and install DIR/dist, not the source directory", m.Ref())
	}
	if o.Granted != nil {
		if missing := m.Capabilities.Missing(*o.Granted); len(missing) > 0 {
			return nil, fmt.Errorf("%s asks for capabilities not granted: %s; grant them with %s, or install without any --grant-* flag to grant what the manifest asks",
				m.Ref(), strings.Join(missing, ", "), strings.Join(m.Capabilities.grantFlags(*o.Granted), " "))
		}
	}
	rec.Granted = m.Capabilities.canonical()
	rec.InstalledAt = time.Now().UTC().Truncate(time.Second)

	r.mu.Lock()
	defer r.mu.Unlock()
	final := r.formDir(m.Name, m.Version, m.Kind)
	id := m.Ref() + "/" + string(m.Kind)
	if old, err := r.load(m.Name, m.Version, m.Kind); err == nil {
		switch {
		case old.Manifest.Artifact.SHA256 == m.Artifact.SHA256 && replace && old.SourceHash != rec.SourceHash:
			// Rebuilt from changed sources into the same bytes (a comment
			// edit): record the new sources so the next check is quick.
			if err := writeRecord(final, rec); err != nil {
				return nil, err
			}
			return r.load(m.Name, m.Version, m.Kind)
		case old.Manifest.Artifact.SHA256 == m.Artifact.SHA256:
			return old, nil
		case !replace:
			return nil, fmt.Errorf("%s is already installed with other content (sha256 %s, this one %s): remove it first (junction plugin remove %s) or bump the version in the connector's Spec",
				id, old.Manifest.Artifact.SHA256, m.Artifact.SHA256, id)
		}
	} else if _, statErr := os.Stat(final); statErr == nil && !replace {
		return nil, fmt.Errorf("%s: %s exists but is not a readable install (%v); remove it first (junction plugin remove %s)", id, final, err, id)
	}

	stage, err := os.MkdirTemp(r.root, ".install-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage) // a no-op once renamed into place
	mode := os.FileMode(0o644)
	if m.Kind == KindGoPlugin {
		mode = 0o755
	}
	if err := copyFile(artifact, filepath.Join(stage, m.Artifact.File), mode); err != nil {
		return nil, err
	}
	// The copy is what runs: check it too, so a file changed while it was
	// being copied is not installed.
	if err := verifyChecksum(m, filepath.Join(stage, m.Artifact.File)); err != nil {
		return nil, fmt.Errorf("%s: %w", m.Ref(), err)
	}
	if err := WriteManifest(stage, m); err != nil {
		return nil, err
	}
	if err := writeRecord(stage, rec); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return nil, err
	}
	if replace {
		if err := r.moveAside(final); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(stage, final); err != nil {
		return nil, fmt.Errorf("install %s: %w", id, err)
	}
	return r.load(m.Name, m.Version, m.Kind)
}

// moveAside removes an installed version being replaced: renamed out of the
// way first so the new one can take its place at once.
func (r *Registry) moveAside(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	trash, err := os.MkdirTemp(r.root, ".replace-")
	if err != nil {
		return err
	}
	if err := os.Rename(dir, filepath.Join(trash, "old")); err != nil {
		_ = os.Remove(trash)
		return fmt.Errorf("replace %s: %w", dir, err)
	}
	return os.RemoveAll(trash)
}

// verifyChecksum compares the artifact's sha256 with the manifest's.
func verifyChecksum(m *Manifest, path string) error {
	sum, err := fileSHA256(path)
	if err != nil {
		return err
	}
	if sum != m.Artifact.SHA256 {
		return fmt.Errorf("sha256 mismatch: manifest says %s, artifact is %s", m.Artifact.SHA256, sum)
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read artifact: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read artifact %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkKind catches an artifact of the wrong kind early: a Wasm module
// starts with "\0asm", a native executable does not.
func checkKind(m *Manifest, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read artifact: %w", err)
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	isWasm := n == 4 && bytes.Equal(head, []byte("\x00asm"))
	switch {
	case m.Kind == KindWasm && !isWasm:
		return fmt.Errorf("kind is wasm but %s is not a Wasm module", m.Artifact.File)
	case m.Kind == KindGoPlugin && isWasm:
		return fmt.Errorf("kind is goplugin but %s is a Wasm module", m.Artifact.File)
	}
	return nil
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", from, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", from, err)
	}
	return out.Close()
}

func writeRecord(dir string, rec record) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, recordFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write install record: %w", err)
	}
	return nil
}
