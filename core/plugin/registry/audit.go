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
	Ref string // name@version, or the directory when unreadable
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
	r := &Registry{root: root}
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
			if !v.IsDir() {
				continue
			}
			ref := n.Name() + "@" + v.Name()
			p, err := r.load(n.Name(), v.Name())
			if err == nil {
				err = verifyChecksum(&p.Manifest, p.ArtifactPath)
			}
			out = append(out, Finding{Ref: ref, Err: err})
		}
	}
	return out, nil
}
