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
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/names"
)

// EnsureBundled makes sure every plugin shipped as source under dirs (each
// dirs/*/junction-plugin.yaml) is installed from its current sources. A
// plugin is rebuilt and reinstalled only when the hash of its sources (every
// Go file of the packages it builds from in its own module, go.mod, go.sum,
// the Go version and the target) differs from the one recorded when it was
// last installed, so a second call with nothing changed builds nothing.
//
// Bundled plugins come with Junction itself: they are installed without the
// signature policy and granted what their manifests ask for. A version
// installed by hand under the same name@version is left alone. When the Go
// toolchain is missing, installed versions are used as they are. One
// plugin's failure does not stop the others; the error joins them all.
func (r *Registry) EnsureBundled(ctx context.Context, dirs []string, progress io.Writer) ([]*Plugin, error) {
	if r.readOnly {
		return nil, fmt.Errorf("bundled plugins: %w", errReadOnly)
	}
	if progress == nil {
		progress = io.Discard
	}
	var out []*Plugin
	var errs []error
	for _, dir := range dirs {
		manifests, err := filepath.Glob(filepath.Join(dir, "*", ManifestFile))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sort.Strings(manifests)
		for _, mf := range manifests {
			p, err := r.ensureOne(ctx, filepath.Dir(mf), progress)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, p)
		}
	}
	return out, errors.Join(errs...)
}

func (r *Registry) ensureOne(ctx context.Context, src string, progress io.Writer) (*Plugin, error) {
	m, err := ReadManifest(src)
	if err != nil {
		return nil, fmt.Errorf("bundled plugin %s: %w", src, err)
	}
	if err := names.Taken(m.Name); err != nil {
		return nil, fmt.Errorf("bundled plugin %s: %w", src, err)
	}
	if m.Version == "" {
		// The version is the Spec's; read without building, so a version
		// installed by hand is found before a build that would be thrown away.
		m.Version, _ = SourceVersion(src)
	}
	label := m.Ref() + "/" + string(m.Kind)
	hash, err := SourceHash(ctx, src, m.Kind)
	installed := r.bundledInstall(m, hash)
	if err != nil {
		if installed != nil {
			fmt.Fprintf(progress, "plugin %s: cannot check its sources (%v); using the installed build\n", label, err)
			return installed, nil
		}
		return nil, fmt.Errorf("bundled plugin %s: %w", label, err)
	}
	switch {
	case installed != nil && installed.SourceHash == hash:
		fmt.Fprintf(progress, "plugin %s: up to date\n", installed.ID())
		return installed, nil
	case installed != nil && !installed.Bundled:
		fmt.Fprintf(progress, "plugin %s: keeping the version installed by hand (not rebuilt from %s)\n", installed.ID(), src)
		return installed, nil
	case installed != nil:
		fmt.Fprintf(progress, "plugin %s: sources changed, rebuilding\n", label)
	default:
		fmt.Fprintf(progress, "plugin %s: not installed, building\n", label)
	}
	start := time.Now()
	tmp, err := os.MkdirTemp(r.root, ".build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	built, err := BuildDist(ctx, src, filepath.Join(tmp, artifactName(m)), progress)
	if err != nil {
		return nil, fmt.Errorf("bundled plugin %s: %w", label, err)
	}
	if old, err := r.load(built.Name, built.Version, built.Kind); err == nil && !old.Bundled {
		// The version could not be read before the build.
		fmt.Fprintf(progress, "plugin %s: keeping the version installed by hand (not rebuilt from %s)\n", old.ID(), src)
		return old, nil
	}
	p, err := r.installDir(tmp, InstallOptions{}, record{Bundled: true, SourceHash: hash}, true)
	if err != nil {
		return nil, fmt.Errorf("bundled plugin %s: %w", label, err)
	}
	fmt.Fprintf(progress, "plugin %s: installed in %s\n", p.ID(), time.Since(start).Round(100*time.Millisecond))
	return p, nil
}

// bundledInstall is the installed plugin that the bundled source m would
// replace: its version in its form when the version is known; otherwise
// the install built from exactly these sources, if any, or else the
// highest bundled install of that form (to be rebuilt, or run as it is when
// the toolchain is missing).
func (r *Registry) bundledInstall(m *Manifest, hash string) *Plugin {
	if m.Version != "" {
		p, _ := r.load(m.Name, m.Version, m.Kind)
		return p
	}
	var last *Plugin
	for _, p := range r.versions(m.Name) {
		if p.Manifest.Kind != m.Kind || !p.Bundled {
			continue
		}
		if hash != "" && p.SourceHash == hash {
			return p
		}
		last = p
	}
	return last
}

// listedPackage is what SourceHash reads of `go list -json`.
type listedPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	CgoFiles   []string
	CFiles     []string
	CXXFiles   []string
	HFiles     []string
	SFiles     []string
	SysoFiles  []string
	EmbedFiles []string
	Module     *listedModule
	Error      *struct{ Err string }
}

type listedModule struct {
	Path    string
	Main    bool
	GoMod   string
	Replace *listedModule
	Version string
}

// SourceHash identifies the sources the plugin in dir is built from for
// kind: each Go (and cgo, assembly, embedded) file of every package it
// depends on in its own module or in a module replaced by a local
// directory, by import path, name and content; those modules' go.mod and
// go.sum (which pin every other dependency); the Go version; and the
// target. Paths on this machine are left out, so moving a checkout does not
// force a rebuild.
func SourceHash(ctx context.Context, dir string, kind Kind) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("the go toolchain is not on PATH")
	}
	env := append(os.Environ(), "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if kind == KindWasm {
		env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	}
	goVersion, err := goOutput(ctx, goBin, dir, env, "env", "GOVERSION")
	if err != nil {
		return "", err
	}
	listed, err := goOutput(ctx, goBin, dir, env, "list", "-e", "-deps",
		"-json=ImportPath,Dir,GoFiles,CgoFiles,CFiles,CXXFiles,HFiles,SFiles,SysoFiles,EmbedFiles,Module,Error", ".")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "junction-plugin-sources/v1\nkind %s\n%s\n", kind, bytes.TrimSpace(goVersion))
	mods := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(listed))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("go list: %w", err)
		}
		if p.Error != nil {
			return "", fmt.Errorf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		if p.Module == nil || !(p.Module.Main || (p.Module.Replace != nil && p.Module.Replace.Version == "")) {
			continue // the standard library, or a dependency pinned by go.sum
		}
		mods[p.Module.GoMod] = true
		files := concat(p.GoFiles, p.CgoFiles, p.CFiles, p.CXXFiles, p.HFiles, p.SFiles, p.SysoFiles, p.EmbedFiles)
		sort.Strings(files)
		fmt.Fprintf(h, "package %s\n", p.ImportPath)
		for _, f := range files {
			if err := hashFile(h, f, filepath.Join(p.Dir, f)); err != nil {
				return "", err
			}
		}
	}
	gomods := make([]string, 0, len(mods))
	for m := range mods {
		gomods = append(gomods, m)
	}
	sort.Strings(gomods)
	for i, gm := range gomods {
		if gm == "" {
			continue
		}
		if err := hashFile(h, fmt.Sprintf("module %d go.mod", i), gm); err != nil {
			return "", err
		}
		sum := strings.TrimSuffix(gm, ".mod") + ".sum"
		if err := hashFile(h, fmt.Sprintf("module %d go.sum", i), sum); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(h io.Writer, label, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("hash plugin sources: %w", err)
	}
	sum := sha256.Sum256(b)
	fmt.Fprintf(h, "file %s %x\n", label, sum)
	return nil
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func goOutput(ctx context.Context, goBin, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
