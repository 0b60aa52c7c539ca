//go:build !unix

package doctor

import (
	"errors"
	"io/fs"
)

// writable cannot be asked without writing on this platform; the hub's
// own start-up reports an unwritable data dir.
func writable(string) error { return nil }

func ownerMismatch(fs.FileInfo) string { return "" }

type statfsDisk struct{}

func (statfsDisk) Free(string) (int64, error) {
	return 0, errors.New("free space is measured on unix systems only")
}
