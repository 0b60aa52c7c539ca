package registry

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/junctionhub/junction/core/names"
)

// Finding is the audit of one installed plugin version.
type Finding struct {
	Ref string // name@version/form, or the directory when unreadable
	// Err is nil when the manifest, install record and artifact checksum
	// all hold.
	Err error
}

// Audit checks every plugin version installed under dataDir without
// changing anything (unlike Open, it creates no directory): each manifest
// and install record must read, and each artifact's sha256 must equal its
// manifest's. A version List would silently skip is reported here.
func Audit(dataDir string) ([]Finding, error) {
	root := filepath.Join(dataDir, "plugins")
	dirs, err := os.ReadDir(root)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read plugin registry %s: %w", root, err)
	}
	r := View(dataDir)
	var out []Finding
	for _, n := range dirs {
		if !n.IsDir() || strings.HasPrefix(n.Name(), ".") {
			continue // staging directories start with a dot
		}
		if !names.ValidName(n.Name()) {
			out = append(out, Finding{Ref: n.Name(), Err: fmt.Errorf("%s: not a valid plugin name", filepath.Join(root, n.Name()))})
			continue
		}
		versions, err := os.ReadDir(filepath.Join(root, n.Name()))
		if err != nil {
			out = append(out, Finding{Ref: n.Name(), Err: err})
			continue
		}
		for _, v := range versions {
			if !v.IsDir() || strings.HasPrefix(v.Name(), ".") {
				continue
			}
			forms, err := os.ReadDir(filepath.Join(root, n.Name(), v.Name()))
			if err != nil {
				out = append(out, Finding{Ref: n.Name() + "@" + v.Name(), Err: err})
				continue
			}
			if _, err := os.Stat(filepath.Join(root, n.Name(), v.Name(), ManifestFile)); err == nil {
				// An older Junction's layout: the next Open moves it.
				forms = nil
				if p, err := loadLegacy(root, n.Name(), v.Name()); err != nil {
					out = append(out, Finding{Ref: n.Name() + "@" + v.Name(), Err: err})
				} else {
					out = append(out, Finding{Ref: p.ID(), Err: verifyChecksum(&p.Manifest, p.ArtifactPath)})
				}
			}
			for _, f := range forms {
				if !f.IsDir() {
					continue
				}
				ref := n.Name() + "@" + v.Name() + "/" + f.Name()
				p, err := r.load(n.Name(), v.Name(), Kind(f.Name()))
				if err == nil {
					err = verifyChecksum(&p.Manifest, p.ArtifactPath)
				}
				out = append(out, Finding{Ref: ref, Err: err})
			}
		}
	}
	return out, nil
}

// loadLegacy reads a version installed without the <form> level, for Audit,
// which changes nothing (Open moves it).
func loadLegacy(root, name, version string) (*Plugin, error) {
	dir := filepath.Join(root, name, version)
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if err := m.checkArtifact(); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return &Plugin{Manifest: *m, Dir: dir, ArtifactPath: filepath.Join(dir, m.Artifact.File)}, nil
}
