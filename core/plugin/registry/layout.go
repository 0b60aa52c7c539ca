package registry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/junctionhub/junction/core/names"
)

// migratePrefix names a version directory of the old layout while it moves
// into its <form> subdirectory.
const migratePrefix = ".migrate-"

// migrateLayout moves every version installed by an older Junction,
// <name>/<version>/{manifest, artifact, record}, to
// <name>/<version>/<form>/, so both forms of a version can sit side by side.
//
// Two renames, each atomic: <version> to <name>/.migrate-<version>, then
// that into a new <version>/<form>. A crash between them leaves the hidden
// directory, which the next Open finishes moving, so no install is lost.
func (r *Registry) migrateLayout() error {
	dirs, err := os.ReadDir(r.root)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range dirs {
		if !n.IsDir() || !names.ValidName(n.Name()) {
			continue
		}
		nameDir := filepath.Join(r.root, n.Name())
		ents, err := os.ReadDir(nameDir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			switch {
			case strings.HasPrefix(e.Name(), migratePrefix):
				errs = append(errs, finishMigration(nameDir, e.Name()))
			case !strings.HasPrefix(e.Name(), "."):
				errs = append(errs, migrateVersion(nameDir, e.Name()))
			}
		}
	}
	return errors.Join(errs...)
}

// migrateVersion moves one old-layout version directory, if it is one.
func migrateVersion(nameDir, version string) error {
	dir := filepath.Join(nameDir, version)
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err != nil {
		return nil // the new layout, or not an install at all
	}
	aside := filepath.Join(nameDir, migratePrefix+version)
	if err := os.Rename(dir, aside); err != nil {
		return fmt.Errorf("move %s to the per-form layout: %w", dir, err)
	}
	return finishMigration(nameDir, migratePrefix+version)
}

// finishMigration moves <name>/.migrate-<version> to <version>/<form>.
func finishMigration(nameDir, aside string) error {
	from := filepath.Join(nameDir, aside)
	m, err := ReadManifest(from)
	if err != nil {
		return fmt.Errorf("move %s to the per-form layout: %w", from, err)
	}
	version := strings.TrimPrefix(aside, migratePrefix)
	if err := os.MkdirAll(filepath.Join(nameDir, version), 0o755); err != nil {
		return fmt.Errorf("move %s to the per-form layout: %w", from, err)
	}
	to := filepath.Join(nameDir, version, string(m.Kind))
	if _, err := os.Stat(to); err == nil {
		return fmt.Errorf("move %s to the per-form layout: %s already exists; remove one of them", from, to)
	}
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("move %s to the per-form layout: %w", from, err)
	}
	return nil
}
