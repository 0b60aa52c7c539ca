package oci

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/junctionhub/junction/core/plugin/build"
	"github.com/junctionhub/junction/core/plugin/registry"
)

// ParsePlatforms reads "linux/amd64,linux/arm64"; empty means this host.
func ParsePlatforms(s string) ([]v1.Platform, error) {
	if strings.TrimSpace(s) == "" {
		return []v1.Platform{{OS: runtime.GOOS, Architecture: runtime.GOARCH}}, nil
	}
	var out []v1.Platform
	for _, p := range strings.Split(s, ",") {
		osName, arch, ok := strings.Cut(strings.TrimSpace(p), "/")
		if !ok || osName == "" || arch == "" || strings.Contains(arch, "/") {
			return nil, fmt.Errorf("platform %q: want os/arch, e.g. linux/arm64", p)
		}
		out = append(out, v1.Platform{OS: osName, Architecture: arch})
	}
	return out, nil
}

// BuildForms builds the plugin source in src, in work (a scratch
// directory), as each of forms; a go-plugin executable once per platform.
// The host's own build runs to read the connector's spec (what `junction
// plugin build` checks); the other platforms are cross-built (cgo off)
// from the same source and share its manifest with their own sha256. Each
// built form is signed with key when it is not nil.
func BuildForms(ctx context.Context, src, work string, forms []registry.Kind, platforms []v1.Platform, key ed25519.PrivateKey, progress io.Writer) ([]Built, error) {
	var out []Built
	for _, f := range forms {
		switch f {
		case registry.KindWasm:
			dir := filepath.Join(work, "wasm")
			m, err := registry.BuildDistAs(ctx, src, filepath.Join(dir, "plugin.wasm"), registry.KindWasm, progress)
			if err != nil {
				return nil, err
			}
			if err := renameArtifact(dir, m, m.Name+".wasm"); err != nil {
				return nil, err
			}
			out = append(out, Built{Dir: dir})
		case registry.KindGoPlugin:
			host := filepath.Join(work, "goplugin-host")
			m, err := registry.BuildDistAs(ctx, src, filepath.Join(host, "plugin"), registry.KindGoPlugin, progress)
			if err != nil {
				return nil, err
			}
			if err := renameArtifact(host, m, m.Name); err != nil {
				return nil, err
			}
			for _, p := range platforms {
				if p.OS == runtime.GOOS && p.Architecture == runtime.GOARCH {
					out = append(out, Built{Dir: host, Platform: p})
					continue
				}
				dir, err := crossBuild(ctx, src, work, host, p, progress)
				if err != nil {
					return nil, err
				}
				out = append(out, Built{Dir: dir, Platform: p})
			}
		default:
			return nil, fmt.Errorf("form %q: want wasm or goplugin", f)
		}
	}
	if key != nil {
		seen := map[string]bool{}
		for _, b := range out {
			if seen[b.Dir] {
				continue
			}
			seen[b.Dir] = true
			if _, err := registry.Sign(key, b.Dir); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// renameArtifact gives the artifact the name a plain `junction plugin
// build` would (name or name.wasm): what the manifest records and the
// installed file is called.
func renameArtifact(dir string, m *registry.Manifest, file string) error {
	if m.Artifact.File == file {
		return nil
	}
	if err := os.Rename(filepath.Join(dir, m.Artifact.File), filepath.Join(dir, file)); err != nil {
		return err
	}
	m.Artifact.File = file
	return registry.WriteManifest(dir, m)
}

// crossBuild builds the go-plugin executable for p and writes the host
// build's manifest beside it with this artifact's sha256.
func crossBuild(ctx context.Context, src, work, hostDir string, p v1.Platform, progress io.Writer) (string, error) {
	m, err := registry.ReadManifest(hostDir)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(work, "goplugin-"+p.OS+"-"+p.Architecture)
	out := filepath.Join(dir, m.Artifact.File)
	if err := build.Build(ctx, build.Options{Dir: src, Out: out, Target: build.TargetGoPlugin, OS: p.OS, Arch: p.Architecture, Progress: progress}); err != nil {
		return "", err
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	m.Artifact.SHA256 = hex.EncodeToString(sum[:])
	m.Signature = ""
	if err := registry.WriteManifest(dir, m); err != nil {
		return "", err
	}
	return dir, nil
}
