package oci

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"gopkg.in/yaml.v3"

	"github.com/junctionhub/junction/core/plugin/registry"
)

// Built is one built plugin directory (a manifest and its artifact, as
// `junction plugin build` writes it, signed or not) and, for a go-plugin
// executable, the platform it was built for.
type Built struct {
	Dir      string
	Platform v1.Platform // ignored for wasm
}

// NewIndex assembles the index of one plugin version from its built forms.
// Every form must name the same plugin and version.
func NewIndex(forms []Built) (v1.ImageIndex, *registry.Manifest, error) {
	if len(forms) == 0 {
		return nil, nil, fmt.Errorf("no built plugin to push")
	}
	var idx v1.ImageIndex = empty.Index
	var first *registry.Manifest
	seen := map[string]bool{}
	for _, b := range forms {
		img, m, plat, err := newImage(b)
		if err != nil {
			return nil, nil, err
		}
		if first == nil {
			first = m
		} else if m.Name != first.Name || m.Version != first.Version {
			return nil, nil, fmt.Errorf("%s is %s but %s is %s: one push is one plugin version", b.Dir, m.Ref(), forms[0].Dir, first.Ref())
		}
		key := string(m.Kind) + " " + plat.String()
		if seen[key] {
			return nil, nil, fmt.Errorf("%s: %s for %s is given twice", b.Dir, m.Kind, plat)
		}
		seen[key] = true
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			MediaType:    types.OCIManifestSchema1,
			Platform:     &plat,
			ArtifactType: ArtifactType,
			Annotations:  map[string]string{AnnotationForm: string(m.Kind)},
		}})
	}
	idx = mutate.IndexMediaType(idx, types.OCIImageIndex)
	idx = mutate.Annotations(idx, map[string]string{annotationTitle: first.Name, annotationVersion: first.Version}).(v1.ImageIndex)
	return idx, first, nil
}

// newImage makes the image manifest of one built form.
func newImage(b Built) (v1.Image, *registry.Manifest, v1.Platform, error) {
	m, err := registry.ReadManifest(b.Dir)
	if err != nil {
		return nil, nil, v1.Platform{}, err
	}
	if m.Artifact.File == "" || m.Version == "" {
		return nil, nil, v1.Platform{}, fmt.Errorf("%s is a source manifest: build the plugin first", b.Dir)
	}
	art, err := os.ReadFile(filepath.Join(b.Dir, filepath.Base(m.Artifact.File)))
	if err != nil {
		return nil, nil, v1.Platform{}, fmt.Errorf("read artifact of %s: %w", m.Ref(), err)
	}
	if sum := sha256.Sum256(art); hex.EncodeToString(sum[:]) != m.Artifact.SHA256 {
		return nil, nil, v1.Platform{}, fmt.Errorf("%s: %w: the manifest's artifact.sha256 is not the artifact's (rebuild it)", m.Ref(), ErrDigest)
	}
	plat := b.Platform
	layerType := types.MediaType(WasmMediaType)
	if m.Kind == registry.KindWasm {
		plat = v1.Platform{OS: wasmPlatformOS, Architecture: wasmPlatformArch}
	} else {
		layerType = GoPluginMediaType
		if plat.OS == "" || plat.Architecture == "" {
			return nil, nil, v1.Platform{}, fmt.Errorf("%s: a go-plugin executable needs its platform (os/arch)", m.Ref())
		}
	}
	sig := m.Signature
	unsigned := *m
	unsigned.Signature = "" // the signature travels as an annotation
	cfg, err := yaml.Marshal(&unsigned)
	if err != nil {
		return nil, nil, v1.Platform{}, fmt.Errorf("encode manifest %s: %w", m.Ref(), err)
	}
	layer := static.NewLayer(art, layerType)
	ld, err := layer.Digest()
	if err != nil {
		return nil, nil, v1.Platform{}, err
	}
	man := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  ArtifactType,
		Config:        v1.Descriptor{MediaType: ConfigMediaType, Size: int64(len(cfg)), Digest: hashOf(cfg)},
		Layers: []v1.Descriptor{{
			MediaType: layerType, Size: int64(len(art)), Digest: ld,
			Annotations: map[string]string{annotationTitle: filepath.Base(m.Artifact.File)},
		}},
	}
	if sig != "" {
		man.Annotations = map[string]string{AnnotationSig: sig}
	}
	raw, err := json.Marshal(man)
	if err != nil {
		return nil, nil, v1.Platform{}, err
	}
	img, err := partial.CompressedToImage(&pluginImage{manifest: raw, config: cfg, layer: layer})
	if err != nil {
		return nil, nil, v1.Platform{}, err
	}
	return img, m, plat, nil
}

// pluginImage is an image manifest whose config is not a container config.
type pluginImage struct {
	manifest, config []byte
	layer            v1.Layer
}

func (i *pluginImage) RawConfigFile() ([]byte, error)      { return i.config, nil }
func (i *pluginImage) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (i *pluginImage) RawManifest() ([]byte, error)        { return i.manifest, nil }
func (i *pluginImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if d, _ := i.layer.Digest(); d == h {
		return i.layer, nil
	}
	if hashOf(i.config) == h {
		return static.NewLayer(i.config, ConfigMediaType), nil
	}
	return nil, fmt.Errorf("blob %s is not in this plugin image", h)
}

func hashOf(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// Staged is a plugin pulled and verified into a directory in the layout
// registry.Install takes.
type Staged struct {
	Dir      string
	Manifest *registry.Manifest
	// Digest is the index's digest: what pins this version.
	Digest string
	// Platforms lists every form/platform the index offers.
	Platforms []string
}

// stage verifies idx (against pinned when it is not zero) and writes the
// form this hub runs (want, or the preferred one) into dir.
func stage(idx v1.ImageIndex, pinned v1.Hash, want registry.Kind, dir string) (*Staged, error) {
	raw, err := idx.RawManifest()
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	digest := hashOf(raw)
	if pinned != (v1.Hash{}) && digest != pinned {
		return nil, fmt.Errorf("%w: index is %s, pinned %s (the content changed since it was pinned)", ErrDigest, digest, pinned)
	}
	var im v1.IndexManifest
	if err := json.Unmarshal(raw, &im); err != nil {
		return nil, fmt.Errorf("parse index %s: %w", digest, err)
	}
	desc, offered, err := pick(im.Manifests, want)
	if err != nil {
		return nil, err
	}
	img, err := idx.Image(desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", desc.Digest, err)
	}
	rawM, err := img.RawManifest()
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", desc.Digest, err)
	}
	if got := hashOf(rawM); got != desc.Digest {
		return nil, fmt.Errorf("%w: image manifest is %s, the index names %s", ErrDigest, got, desc.Digest)
	}
	var man v1.Manifest
	if err := json.Unmarshal(rawM, &man); err != nil {
		return nil, fmt.Errorf("parse image %s: %w", desc.Digest, err)
	}
	if man.Config.MediaType != ConfigMediaType || len(man.Layers) != 1 {
		return nil, fmt.Errorf("image %s is not a Junction plugin (config %s, %d layers; want %s and one layer)", desc.Digest, man.Config.MediaType, len(man.Layers), ConfigMediaType)
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read plugin manifest blob %s: %w", man.Config.Digest, err)
	}
	if got := hashOf(cfg); got != man.Config.Digest {
		return nil, fmt.Errorf("%w: plugin manifest blob is %s, the image names %s", ErrDigest, got, man.Config.Digest)
	}
	if err := os.WriteFile(filepath.Join(dir, registry.ManifestFile), cfg, 0o644); err != nil {
		return nil, err
	}
	m, err := registry.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	form := registry.Kind(desc.Annotations[AnnotationForm])
	layerForm := map[types.MediaType]registry.Kind{WasmMediaType: registry.KindWasm, GoPluginMediaType: registry.KindGoPlugin}[man.Layers[0].MediaType]
	if m.Kind != form || layerForm != form {
		return nil, fmt.Errorf("%s: %w: the manifest says kind %q, the index %q and the layer %q; they must agree", m.Ref(), ErrNotRunnable, m.Kind, form, man.Layers[0].MediaType)
	}
	file := m.Artifact.File
	if file == "" || file != filepath.Base(file) || file == registry.ManifestFile || strings.HasPrefix(file, ".") {
		return nil, fmt.Errorf("%s: artifact.file %q: want a plain file name", m.Ref(), file)
	}
	if err := copyLayer(img, man.Layers[0], filepath.Join(dir, file)); err != nil {
		return nil, err
	}
	if form == registry.KindGoPlugin {
		if err := checkMachine(filepath.Join(dir, file), *desc.Platform); err != nil {
			return nil, fmt.Errorf("%s: %w", m.Ref(), err)
		}
	}
	m.Signature = man.Annotations[AnnotationSig]
	if err := registry.WriteManifest(dir, m); err != nil {
		return nil, err
	}
	return &Staged{Dir: dir, Manifest: m, Digest: digest.String(), Platforms: offered}, nil
}

// pick chooses the image this hub runs: the wanted form, or Wasm first
// (registry.PreferredForms); a go-plugin executable only for this
// platform.
func pick(ds []v1.Descriptor, want registry.Kind) (v1.Descriptor, []string, error) {
	var offered []string
	byForm := map[registry.Kind]v1.Descriptor{}
	here := runtime.GOOS + "/" + runtime.GOARCH
	for _, d := range ds {
		form := registry.Kind(d.Annotations[AnnotationForm])
		plat := "?"
		if d.Platform != nil {
			plat = d.Platform.OS + "/" + d.Platform.Architecture
		}
		offered = append(offered, string(form)+" "+plat)
		switch {
		case form == registry.KindWasm && plat == wasmPlatformOS+"/"+wasmPlatformArch:
		case form == registry.KindGoPlugin && plat == here:
		default:
			continue
		}
		if _, dup := byForm[form]; !dup {
			byForm[form] = d
		}
	}
	forms := registry.PreferredForms
	if want != "" {
		forms = []registry.Kind{want}
	}
	for _, f := range forms {
		if d, ok := byForm[f]; ok {
			return d, offered, nil
		}
	}
	what := "a Wasm module or a go-plugin executable for " + here
	if want != "" {
		what = string(want)
		if want == registry.KindGoPlugin {
			what += " for " + here
		}
	}
	return v1.Descriptor{}, offered, fmt.Errorf("%w: it offers %s, this hub runs %s", ErrNotRunnable, strings.Join(offered, ", "), what)
}

// copyLayer writes the layer to path, checking its size and digest.
func copyLayer(img v1.Image, d v1.Descriptor, path string) error {
	if d.Size > maxArtifactBytes {
		return fmt.Errorf("artifact %s is %d bytes, over the %d MiB limit", d.Digest, d.Size, maxArtifactBytes>>20)
	}
	l, err := img.LayerByDigest(d.Digest)
	if err != nil {
		return fmt.Errorf("read artifact %s: %w", d.Digest, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return fmt.Errorf("read artifact %s: %w", d.Digest, err)
	}
	defer rc.Close()
	h := sha256.New()
	var buf bytes.Buffer
	n, err := io.Copy(io.MultiWriter(h, &buf), io.LimitReader(rc, maxArtifactBytes+1))
	if err != nil {
		return fmt.Errorf("read artifact %s: %w", d.Digest, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != d.Digest.String() || n != d.Size {
		return fmt.Errorf("%w: artifact blob is %s (%d bytes), the image names %s (%d bytes)", ErrDigest, got, n, d.Digest, d.Size)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// checkMachine refuses a Linux executable built for another architecture
// than the index says (and so than this hub, which pick checked).
func checkMachine(path string, p v1.Platform) error {
	if p.OS != "linux" {
		return nil
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%w: the go-plugin artifact is not a Linux executable: %v", ErrNotRunnable, err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386, "arm": elf.EM_ARM}[p.Architecture]
	if want != 0 && f.Machine != want {
		return fmt.Errorf("%w: the executable is for %s, the index says %s", ErrNotRunnable, f.Machine, p.Architecture)
	}
	return nil
}
