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
//	<data>/plugins/<name>/<version>/<form>/junction-plugin.yaml   the manifest as verified
//	<data>/plugins/<name>/<version>/<form>/<artifact file>         the .wasm module or executable
//	<data>/plugins/<name>/<version>/<form>/installed.json          when, what was granted, who signed
//
// <form> is wasm or goplugin: the form is part of what is installed, so one
// version can be installed in both forms side by side (see Ref). Open moves
// a version installed by an older Junction, without the <form> level, into
// it (layout.go).
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
	root     string
	readOnly bool // View: an old-layout version is read in place
	mu       sync.Mutex
}

// Plugin is an installed plugin version in one form.
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
	// Origin is where a plugin pulled from an OCI registry or an image
	// layout file came from; zero for a local install.
	Origin
}

// Origin says where an installed plugin was pulled from.
type Origin struct {
	// Source is the reference it was installed by (registry/repo:tag or
	// registry/repo@sha256:...).
	Source string `json:"source,omitempty"`
	// SourceDigest is the digest of the OCI index it came from: what pins
	// this version in its repository.
	SourceDigest string `json:"sourceDigest,omitempty"`
}

// Ref is name@version.
func (p *Plugin) Ref() string { return p.Manifest.Ref() }

// ID is name@version/form: what is installed, and the reference that pins it.
func (p *Plugin) ID() string { return p.Manifest.Ref() + "/" + string(p.Manifest.Kind) }

// record is installed.json.
type record struct {
	InstalledAt time.Time    `json:"installedAt"`
	Granted     Capabilities `json:"granted"`
	SignedBy    string       `json:"signedBy,omitempty"`
	Bundled     bool         `json:"bundled,omitempty"`
	SourceHash  string       `json:"sourceHash,omitempty"`
	Origin
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
	// Origin is recorded with the install (core/plugin/oci sets it).
	Origin Origin
}

// Open opens (creating it if needed) the registry under dataDir.
func Open(dataDir string) (*Registry, error) {
	root := filepath.Join(dataDir, "plugins")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("open plugin registry: %w", err)
	}
	r := &Registry{root: root}
	if err := r.migrateLayout(); err != nil {
		return nil, fmt.Errorf("open plugin registry: %w", err)
	}
	return r, nil
}

// View reads the registry under dataDir without changing anything: no
// directory is created and a version in an older Junction's layout is read
// where it is instead of being moved (`junction validate` must not write to
// the data dir). Installing through a View is not supported.
func View(dataDir string) *Registry {
	return &Registry{root: filepath.Join(dataDir, "plugins"), readOnly: true}
}

// Dir is the registry's root directory (<data>/plugins).
func (r *Registry) Dir() string { return r.root }

// List returns every installed plugin version and form, by name, then
// version, then preferred form. A directory that cannot be read is
// skipped (Audit reports it).
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
		out = append(out, r.versions(n.Name())...)
	}
	return out
}

// versions lists the installed versions of name, each in every installed
// form, lowest version first and, within a version, preferred form first.
func (r *Registry) versions(name string) []*Plugin {
	ents, err := os.ReadDir(filepath.Join(r.root, name))
	if err != nil {
		return nil
	}
	var out []*Plugin
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		for _, form := range PreferredForms {
			if p, err := r.load(name, e.Name(), form); err == nil {
				out = append(out, p)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if c := compareVersions(out[i].Manifest.Version, out[j].Manifest.Version); c != 0 {
			return c < 0
		}
		return formRank(out[i].Manifest.Kind) < formRank(out[j].Manifest.Kind)
	})
	return out
}

// formDir is where one form of one version is installed.
func (r *Registry) formDir(name, version string, form Kind) string {
	return filepath.Join(r.root, name, version, string(form))
}

// load reads an installed version in one form.
func (r *Registry) load(name, version string, form Kind) (*Plugin, error) {
	dir := r.formDir(name, version, form)
	m, err := ReadManifest(dir)
	if errors.Is(err, os.ErrNotExist) && r.readOnly {
		dir = filepath.Join(r.root, name, version) // not moved yet (layout.go)
		if m, err = ReadManifest(dir); err == nil && m.Kind != form {
			return nil, fmt.Errorf("%s: %w", dir, os.ErrNotExist)
		}
	}
	if err != nil {
		return nil, err
	}
	if m.Name != name || m.Version != version || m.Kind != form {
		return nil, fmt.Errorf("%s holds %s/%s", dir, m.Ref(), m.Kind)
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
	p.Bundled, p.SourceHash, p.Origin = rec.Bundled, rec.SourceHash, rec.Origin
	return p, nil
}

// Resolve finds an installed plugin by reference (see Ref): "name" for the
// highest installed version (releases rank above pre-releases, so 1.2.0 is
// picked over 1.3.0-rc.1 unless only pre-releases are installed),
// "name@version", or "name@version/form"; without a form, the first
// installed of PreferredForms.
//
// A plugin whose name belongs to a builtin (names.Taken), installed before
// the builtin existed or by an older Junction, is refused here with the
// message Install gives, rather than shadowed by the builtin.
func (r *Registry) Resolve(s string) (*Plugin, error) {
	ref, err := ParseRef(s)
	if err != nil {
		return nil, fmt.Errorf("resolve plugin: %w", err)
	}
	if err := names.Taken(ref.Name); err != nil {
		return nil, fmt.Errorf("plugin %s is refused: %w", s, err)
	}
	if ref.Form != "" {
		p, err := r.load(ref.Name, ref.Version, ref.Form)
		if err == nil {
			return p, nil
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("plugin %s is not installed%s", s, r.installedHint(ref.Name))
		}
		return nil, fmt.Errorf("resolve plugin %s: %w", s, err)
	}
	if ref.Version != "" {
		var lastErr error
		for _, form := range PreferredForms {
			p, err := r.load(ref.Name, ref.Version, form)
			if err == nil {
				return p, nil
			}
			if !errors.Is(err, os.ErrNotExist) {
				lastErr = err
			}
		}
		if lastErr != nil {
			return nil, fmt.Errorf("resolve plugin %s: %w", s, lastErr)
		}
		return nil, fmt.Errorf("plugin %s is not installed%s", s, r.installedHint(ref.Name))
	}
	vs := r.versions(ref.Name)
	if len(vs) == 0 {
		return nil, fmt.Errorf("plugin %s is not installed", ref.Name)
	}
	// versions sorts by version, then preferred form first: the best is the
	// first plugin of the highest release (or pre-release, if only those).
	best := -1
	for i := len(vs) - 1; i >= 0; i-- {
		if v, _ := parseSemver(vs[i].Manifest.Version); len(v.pre) == 0 {
			best = i
			break
		}
	}
	if best < 0 {
		best = len(vs) - 1
	}
	for best > 0 && vs[best-1].Manifest.Version == vs[best].Manifest.Version {
		best--
	}
	return vs[best], nil
}

// installedHint lists what is installed of name: " (installed: 1.0.0/wasm,
// 1.0.0/goplugin)".
func (r *Registry) installedHint(name string) string {
	var vs []string
	for _, p := range r.versions(name) {
		vs = append(vs, p.Manifest.Version+"/"+string(p.Manifest.Kind))
	}
	if len(vs) == 0 {
		return ""
	}
	return " (installed: " + strings.Join(vs, ", ") + ")"
}

// Remove deletes an installed version: its only installed form. When both
// forms are installed it removes neither and asks for one (RemoveForm), so
// a shorthand never deletes more than the user can see. Whether a
// connection still uses it is the caller's to check.
func (r *Registry) Remove(name, version string) error {
	_, err := r.RemoveForm(name, version, "")
	return err
}

// RemoveForm deletes one installed form of a version, form "" as Remove
// does, and returns the form it removed.
func (r *Registry) RemoveForm(name, version string, form Kind) (Kind, error) {
	ref := Ref{Name: name, Version: version, Form: form}
	if !names.ValidName(name) {
		return "", fmt.Errorf("remove plugin %s: bad name", ref)
	}
	if _, err := parseSemver(version); err != nil {
		return "", fmt.Errorf("remove plugin %s: %w", ref, err)
	}
	if form != "" && form != KindWasm && form != KindGoPlugin {
		return "", fmt.Errorf("remove plugin %s: form %q: want %s or %s", ref, form, KindWasm, KindGoPlugin)
	}
	if r.readOnly {
		return "", fmt.Errorf("remove plugin %s: the registry was opened read-only", ref)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if form == "" {
		var have []Kind
		for _, f := range PreferredForms {
			if _, err := os.Stat(r.formDir(name, version, f)); err == nil {
				have = append(have, f)
			}
		}
		switch len(have) {
		case 0:
			return "", fmt.Errorf("plugin %s is not installed%s", ref, r.installedHint(name))
		case 1:
			form = have[0]
		default:
			return "", fmt.Errorf("plugin %s is installed in %d forms: remove one, %s@%s/%s or %s@%s/%s",
				ref, len(have), name, version, have[0], name, version, have[1])
		}
		ref.Form = form
	}
	dir := r.formDir(name, version, form)
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("plugin %s is not installed%s", ref, r.installedHint(name))
		}
		return "", fmt.Errorf("remove plugin %s: %w", ref, err)
	}
	// Rename first: the form disappears from List at once, even if
	// deleting a large artifact is slow or interrupted.
	trash, err := os.MkdirTemp(r.root, ".remove-")
	if err != nil {
		return "", fmt.Errorf("remove plugin %s: %w", ref, err)
	}
	if err := os.Rename(dir, filepath.Join(trash, string(form))); err != nil {
		_ = os.Remove(trash)
		return "", fmt.Errorf("remove plugin %s: %w", ref, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return "", fmt.Errorf("remove plugin %s: %w", ref, err)
	}
	// Each only succeeds when nothing is left in it.
	_ = os.Remove(filepath.Join(r.root, name, version))
	_ = os.Remove(filepath.Join(r.root, name))
	return form, nil
}

// errReadOnly refuses a change through a View.
var errReadOnly = errors.New("the plugin registry was opened read-only")
