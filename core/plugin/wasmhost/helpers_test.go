package wasmhost_test

import (
	"io/fs"
	"path/filepath"
)

// filepathGlob lists every file below dir.
func filepathGlob(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	return files, err
}
