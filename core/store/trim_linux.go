//go:build linux

package store

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// madvPageout is MADV_PAGEOUT (Linux 5.4+), missing from package syscall.
const madvPageout = 21

// trimValueLog asks the kernel to page out the value-log files that Badger
// has finished writing. Badger keeps every value-log file mmapped, so each
// page written stays in the process's RSS (as file-backed memory) until the
// file is deleted: after 5 minutes at c64 that was over a gigabyte of old
// events the hub would rarely read again. The newest file is skipped: it is
// being written, and the dispatcher reads events soon after they land.
//
// MADV_PAGEOUT, unlike MADV_DONTNEED, never discards data: if Badger
// unmaps a file and the address range is reused between reading
// /proc/self/maps and the call, the worst case is that some other memory is
// paged out (anonymous memory cannot be, without swap) and read back on next
// use. It returns how many bytes of mappings it advised.
func trimValueLog(dir string) (int64, error) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		// /proc/self/maps shows paths with symlinks resolved.
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return 0, fmt.Errorf("trim value log: %w", err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("trim value log: %w", err)
	}
	type mapping struct {
		start, end uintptr
		fid        int
	}
	var vlogs []mapping
	newest := -1
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		// start-end perms offset dev inode path
		f := strings.Fields(sc.Text())
		if len(f) < 6 || filepath.Dir(f[5]) != abs || !strings.HasSuffix(f[5], ".vlog") {
			continue
		}
		fid, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(f[5]), ".vlog"))
		if err != nil {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || end <= start {
			continue
		}
		vlogs = append(vlogs, mapping{uintptr(start), uintptr(end), fid})
		newest = max(newest, fid)
	}
	var advised int64
	for _, m := range vlogs {
		if m.fid == newest {
			continue
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, madvPageout); errno != 0 {
			if errno == syscall.EINVAL {
				return advised, fmt.Errorf("trim value log: madvise(MADV_PAGEOUT) unsupported (Linux 5.4+): %w", errno)
			}
			continue // unmapped meanwhile (ENOMEM): nothing to do
		}
		advised += int64(m.end - m.start)
	}
	return advised, nil
}
