// Package registry keeps the installed connector plugins under the data
// directory: it verifies a plugin's manifest, checksum, signature and
// capabilities before installing it, refuses a name that belongs to a
// builtin (core/names: plugins and builtins share one namespace, and a
// builtin never silently shadows a plugin), keeps several versions side by
// side, resolves name or name@version to an installed plugin, and builds
// the plugins bundled as source (EnsureBundled, run by `junction up`).
//
// Layout:
//
//	<data>/plugins/<name>/<version>/junction-plugin.yaml   the manifest as verified
//	<data>/plugins/<name>/<version>/<artifact file>         the .wasm module or executable
//	<data>/plugins/<name>/<version>/installed.json          when, what was granted, who signed
//
// An install is staged in a hidden directory next to the others and renamed
// into place, so a crash never leaves a half-installed version that List
// would show.
package registry

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/junctionhub/junction/core/names"
)

const recordFile = "installed.json"

// Registry is the set of plugins installed under one data directory. It is
// safe for concurrent use; installs are serialised.
type Registry struct {
	root string
	mu   sync.Mutex
}

// Plugin is an installed plugin version.
type Plugin struct {
	Manifest Manifest `json:"manifest"`
	// Dir is the installed directory; ArtifactPath the module or executable.
	Dir          string    `json:"dir"`
	ArtifactPath string    `json:"artifactPath"`
	InstalledAt  time.Time `json:"installedAt"`
	// Granted is what the plugin may use (what it asked for, every item of
	// which was granted at install).
	Granted Capabilities `json:"granted"`
	// SignedBy is the base64 trusted key that verified the signature; empty
	// when the plugin is unsigned or no keys were configured.
	SignedBy string `json:"signedBy,omitempty"`
	// Bundled plugins were built from source by EnsureBundled; SourceHash
	// identifies the sources they were built from.
	Bundled    bool   `json:"bundled,omitempty"`
	SourceHash string `json:"sourceHash,omitempty"`
}

// Ref is name@version.
func (p *Plugin) Ref() string { return p.Manifest.Ref() }

// record is installed.json.
type record struct {
	InstalledAt time.Time    `json:"installedAt"`
	Granted     Capabilities `json:"granted"`
	SignedBy    string       `json:"signedBy,omitempty"`
	Bundled     bool         `json:"bundled,omitempty"`
	SourceHash  string       `json:"sourceHash,omitempty"`
}

// InstallOptions say what Install trusts and grants.
type InstallOptions struct {
	// TrustedKeys verify signatures. A signed plugin must verify with one of
	// them (when any are given); an unsigned one is refused when
	// RequireSignatures is set.
	TrustedKeys       []ed25519.PublicKey
	RequireSignatures bool
	// Granted is what the operator grants; every capability the manifest
	// asks for must be in it. nil grants what the manifest asks for.
	Granted *Capabilities
	// Progress receives build progress when PATH is a source directory.
	Progress io.Writer
}

// Open opens (creating it if needed) the registry under dataDir.
func Open(dataDir string) (*Registry, error) {
	root := filepath.Join(dataDir, "plugins")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("open plugin registry: %w", err)
	}
	return &Registry{root: root}, nil
}

// Dir is the registry's root directory (<data>/plugins).
func (r *Registry) Dir() string { return r.root }

// List returns every installed plugin version, by name then version. A
// version directory that cannot be read is skipped.
func (r *Registry) List() []*Plugin {
	dirs, err := os.ReadDir(r.root)
	if err != nil {
		return nil
	}
	var out []*Plugin
	for _, n := range dirs {
		if !n.IsDir() || !names.ValidName(n.Name()) {
			continue // staging directories start with a dot
		}
		for _, p := range r.versions(n.Name()) {
			out = append(out, p)
		}
	}
	return out
}

// versions lists the installed versions of name, lowest first.
func (r *Registry) versions(name string) []*Plugin {
	ents, err := os.ReadDir(filepath.Join(r.root, name))
	if err != nil {
		return nil
	}
	var out []*Plugin
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if p, err := r.load(name, e.Name()); err == nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return compareVersions(out[i].Manifest.Version, out[j].Manifest.Version) < 0
	})
	return out
}

// load reads an installed version.
func (r *Registry) load(name, version string) (*Plugin, error) {
	dir := filepath.Join(r.root, name, version)
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if m.Name != name || m.Version != version {
		return nil, fmt.Errorf("%s holds %s", dir, m.Ref())
	}
	if err := m.checkArtifact(); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	p := &Plugin{Manifest: *m, Dir: dir, ArtifactPath: filepath.Join(dir, m.Artifact.File)}
	b, err := os.ReadFile(filepath.Join(dir, recordFile))
	if err != nil {
		return nil, fmt.Errorf("read install record: %w", err)
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, recordFile), err)
	}
	p.InstalledAt, p.Granted, p.SignedBy = rec.InstalledAt, rec.Granted, rec.SignedBy
	p.Bundled, p.SourceHash = rec.Bundled, rec.SourceHash
	return p, nil
}

// Resolve finds an installed plugin by "name@version", or by "name" for the
// highest installed version (releases rank above pre-releases, so 1.2.0 is
// picked over 1.3.0-rc.1 unless only pre-releases are installed).
//
// A plugin whose name belongs to a builtin (names.Taken), installed before
// the builtin existed or by an older Junction, is refused here with the
// message Install gives, rather than shadowed by the builtin.
func (r *Registry) Resolve(ref string) (*Plugin, error) {
	name, version, pinned := strings.Cut(ref, "@")
	if !names.ValidName(name) {
		return nil, fmt.Errorf("resolve plugin %q: bad name", ref)
	}
	if err := names.Taken(name); err != nil {
		return nil, fmt.Errorf("plugin %s is refused: %w", ref, err)
	}
	if pinned {
		if _, err := parseSemver(version); err != nil {
			return nil, fmt.Errorf("resolve plugin %q: %w", ref, err)
		}
		p, err := r.load(name, version)
		if err == nil {
			return p, nil
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("plugin %s is not installed%s", ref, r.installedHint(name))
		}
		return nil, fmt.Errorf("resolve plugin %s: %w", ref, err)
	}
	vs := r.versions(name)
	if len(vs) == 0 {
		return nil, fmt.Errorf("plugin %s is not installed", name)
	}
	best := vs[len(vs)-1]
	for i := len(vs) - 1; i >= 0; i-- {
		if v, _ := parseSemver(vs[i].Manifest.Version); len(v.pre) == 0 {
			best = vs[i]
			break
		}
	}
	return best, nil
}

func (r *Registry) installedHint(name string) string {
	var vs []string
	for _, p := range r.versions(name) {
		vs = append(vs, p.Manifest.Version)
	}
	if len(vs) == 0 {
		return ""
	}
	return " (installed: " + strings.Join(vs, ", ") + ")"
}

// Remove deletes an installed version. Whether a connection still pins it
// is the caller's to check.
func (r *Registry) Remove(name, version string) error {
	if !names.ValidName(name) {
		return fmt.Errorf("remove plugin %s@%s: bad name", name, version)
	}
	if _, err := parseSemver(version); err != nil {
		return fmt.Errorf("remove plugin %s@%s: %w", name, version, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	dir := filepath.Join(r.root, name, version)
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("plugin %s@%s is not installed%s", name, version, r.installedHint(name))
		}
		return fmt.Errorf("remove plugin %s@%s: %w", name, version, err)
	}
	// Rename first: the version disappears from List at once, even if
	// deleting a large artifact is slow or interrupted.
	trash, err := os.MkdirTemp(r.root, ".remove-")
	if err != nil {
		return fmt.Errorf("remove plugin %s@%s: %w", name, version, err)
	}
	gone := filepath.Join(trash, version)
	if err := os.Rename(dir, gone); err != nil {
		_ = os.Remove(trash)
		return fmt.Errorf("remove plugin %s@%s: %w", name, version, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("remove plugin %s@%s: %w", name, version, err)
	}
	_ = os.Remove(filepath.Join(r.root, name)) // only succeeds when no version is left
	return nil
}
