//go:build linux

package store

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestTrimValueLog: finished value-log files leave the process's RSS, the
// newest one (being written) stays, and other files are left alone.
func TestTrimValueLog(t *testing.T) {
	dir := t.TempDir()
	const size = 4 << 20
	mapFile := func(name string) []byte {
		t.Helper()
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Munmap(b) })
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1 // touch every page
		}
		if err := syscall.Fsync(int(f.Fd())); err != nil {
			t.Fatal(err)
		}
		return b
	}
	old := mapFile("000001.vlog")
	mapFile("000002.vlog")
	mapFile("000001.sst")
	for _, name := range []string{"000001.vlog", "000002.vlog", "000001.sst"} {
		if kb := mappedRSSKB(t, filepath.Join(dir, name)); kb < size/1024/2 {
			t.Fatalf("%s: %d KiB resident before the trim, want about %d", name, kb, size/1024)
		}
	}
	advised, err := trimValueLog(dir)
	if err != nil {
		t.Skipf("this kernel cannot page out: %v", err)
	}
	if advised != size {
		t.Errorf("advised %d bytes, want %d (the older value-log file only)", advised, size)
	}
	if kb := mappedRSSKB(t, filepath.Join(dir, "000001.vlog")); kb > size/1024/4 {
		t.Errorf("finished value-log file: %d KiB still resident", kb)
	}
	for _, name := range []string{"000002.vlog", "000001.sst"} {
		if kb := mappedRSSKB(t, filepath.Join(dir, name)); kb < size/1024/2 {
			t.Errorf("%s: only %d KiB resident after the trim; it should be left alone", name, kb)
		}
	}
	if old[4096] != 1 {
		t.Error("a paged-out page lost its content")
	}
}

// mappedRSSKB sums the Rss of this process's mappings of path.
func mappedRSSKB(t *testing.T, path string) int64 {
	t.Helper()
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	var kb int64
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			in = len(f) >= 6 && f[5] == real
			continue
		}
		if in && len(f) == 3 && f[0] == "Rss:" {
			var n int64
			for _, c := range f[1] {
				n = n*10 + int64(c-'0')
			}
			kb += n
		}
	}
	return kb
}
