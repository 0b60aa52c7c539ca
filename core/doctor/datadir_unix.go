//go:build unix

package doctor

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// writable asks the kernel whether this process may create files in dir
// (access(2) with W_OK|X_OK): it writes nothing, unlike a probe file.
func writable(dir string) error {
	if err := syscall.Access(dir, 0x2|0x1); err != nil {
		return fmt.Errorf("access %s: %w", dir, err)
	}
	return nil
}

// ownerMismatch names the owner of fi when it is not this process's user.
func ownerMismatch(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) == os.Geteuid() {
		return ""
	}
	return fmt.Sprintf("uid %d", st.Uid)
}

type statfsDisk struct{}

func (statfsDisk) Free(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
