package registry

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/junctionhub/junction/core/plugin/build"
	"github.com/junctionhub/junction/core/plugin/gopluginhost"
	"github.com/junctionhub/junction/core/plugin/wasmhost"
	"github.com/junctionhub/junction/pluginsdk"
)

// DistDir is where `junction plugin build DIR` writes by default: DIR/dist,
// which ignores itself in git (it holds a .gitignore of "*").
const DistDir = "dist"

// BuildDist builds the plugin source in srcDir (its manifest gives the
// kind) into out, or srcDir/dist/<name>[.wasm] when out is "", and writes the
// complete manifest next to the artifact: the version and connector summary
// read from the built connector's spec, the artifact's name and sha256, no
// signature. It fails if the spec's name differs from the manifest's, or if
// the source manifest still names a version and it is not the spec's.
func BuildDist(ctx context.Context, srcDir, out string, progress io.Writer) (*Manifest, error) {
	return BuildDistAs(ctx, srcDir, out, "", progress)
}

// BuildDistAs is BuildDist for another target than the manifest's kind: the
// same connector source builds as a Wasm module or a go-plugin executable,
// and the written manifest says which. By default the manifest's own kind
// goes to srcDir/dist and the other form to srcDir/dist/<form>.
func BuildDistAs(ctx context.Context, srcDir, out string, target Kind, progress io.Writer) (*Manifest, error) {
	m, err := ReadManifest(srcDir)
	if err != nil {
		return nil, err
	}
	defaultKind := m.Kind
	switch target {
	case "":
	case KindWasm, KindGoPlugin:
		m.Kind = target
	default:
		return nil, fmt.Errorf("build plugin %s: target %q: want wasm or goplugin", m.Ref(), target)
	}
	src, err := filepath.Abs(srcDir)
	if err != nil {
		return nil, err
	}
	if out == "" {
		dist := filepath.Join(src, DistDir)
		if err := os.MkdirAll(dist, 0o755); err != nil {
			return nil, fmt.Errorf("build plugin %s: %w", m.Ref(), err)
		}
		if err := os.WriteFile(filepath.Join(dist, ".gitignore"), []byte("*\n"), 0o644); err != nil {
			return nil, fmt.Errorf("build plugin %s: %w", m.Ref(), err)
		}
		if m.Kind != defaultKind {
			// The other form gets its own directory, so building both
			// forms never overwrites one's manifest with the other's.
			dist = filepath.Join(dist, string(m.Kind))
		}
		out = filepath.Join(dist, artifactName(m))
	}
	if out, err = filepath.Abs(out); err != nil {
		return nil, err
	}
	outDir := filepath.Dir(out)
	if outDir == src {
		return nil, fmt.Errorf("build plugin %s: write the artifact outside the source directory (its %s would be overwritten); the default is %s", m.Ref(), ManifestFile, filepath.Join(srcDir, DistDir))
	}
	if err := build.Build(ctx, build.Options{Dir: src, Out: out, Target: string(m.Kind), Progress: progress}); err != nil {
		return nil, err
	}
	spec, err := readSpec(ctx, m.Kind, out)
	if err != nil {
		return nil, fmt.Errorf("build plugin %s: read the built connector's spec: %w", m.Ref(), err)
	}
	if err := identityFromSpec(m, spec, srcDir); err != nil {
		return nil, fmt.Errorf("build plugin %s: %w", m.Ref(), err)
	}
	m.Connector = summarize(spec)
	if m.Description == "" {
		m.Description = spec.Description
	}
	sum, err := fileSHA256(out)
	if err != nil {
		return nil, err
	}
	m.Artifact = Artifact{File: filepath.Base(out), SHA256: sum}
	m.Signature = ""
	if err := WriteManifest(outDir, m); err != nil {
		return nil, err
	}
	return m, nil
}

// readSpec loads the built artifact the way the host will and asks for its
// spec: proof that it starts and speaks this host's ABI.
func readSpec(ctx context.Context, kind Kind, path string) (pluginsdk.Spec, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	switch kind {
	case KindGoPlugin:
		c, err := gopluginhost.Start(ctx, gopluginhost.Options{Path: path})
		if err != nil {
			return pluginsdk.Spec{}, err
		}
		defer c.Close()
		return c.Spec(), nil
	case KindWasm:
		b, err := os.ReadFile(path)
		if err != nil {
			return pluginsdk.Spec{}, err
		}
		rt, err := wasmhost.NewRuntime(ctx, wasmhost.RuntimeOptions{})
		if err != nil {
			return pluginsdk.Spec{}, err
		}
		defer rt.Close(context.Background())
		mod, err := rt.Compile(ctx, b)
		if err != nil {
			return pluginsdk.Spec{}, err
		}
		return mod.Spec(), nil
	}
	return pluginsdk.Spec{}, fmt.Errorf("unknown kind %q", kind)
}

func summarize(s pluginsdk.Spec) ConnectorSummary {
	c := ConnectorSummary{Direction: string(s.Direction), Roles: append([]string(nil), s.Roles...)}
	for _, a := range s.Actions {
		c.Actions = append(c.Actions, a.Name)
	}
	for _, e := range s.Entities {
		c.Entities = append(c.Entities, e.Name)
	}
	return c
}

// identityFromSpec makes the built manifest's identity the spec's: the
// version is declared once, in Spec.Version, and written here; the name is
// in both (a connection names the plugin before anything is built) and must
// agree. Each refusal names the line to change.
func identityFromSpec(m *Manifest, spec pluginsdk.Spec, srcDir string) error {
	mf := filepath.Join(srcDir, ManifestFile)
	if spec.Name != m.Name {
		return fmt.Errorf("%s says name %q but the connector's Spec.Name is %q: make them agree (the name is what connections write in connector:)", mf, m.Name, spec.Name)
	}
	if _, err := parseSemver(spec.Version); err != nil {
		return fmt.Errorf("the connector's Spec.Version: %w", err)
	}
	if m.Version != "" && m.Version != spec.Version {
		return fmt.Errorf("%s says version %s but the connector's Spec.Version is %s: the version is declared once, in Spec.Version; delete the version line from %s", mf, m.Version, spec.Version, ManifestFile)
	}
	m.Version = spec.Version
	return nil
}
