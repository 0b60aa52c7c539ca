package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// ErrDiskFull is returned (wrapped, together with syscall.ENOSPC) for
// writes refused because the data directory's file system is (nearly)
// full. Nothing of a refused write was stored.
var ErrDiskFull = errors.New("disk full")

// DefaultMinFreeBytes is the free space kept when Options.MinFreeBytes is 0.
const DefaultMinFreeBytes = 256 << 20

// Disk is what the disk guard asks of the file system. Tests replace it to
// simulate a full disk on any machine.
type Disk interface {
	// Free returns the bytes an unprivileged writer may still use on the
	// file system holding dir.
	Free(dir string) (int64, error)
	// Probe writes, syncs and removes a small file in dir: after a write
	// failed with ENOSPC, writes resume only once a probe succeeds.
	Probe(dir string) error
}

// diskGuard refuses writes before the disk is full. Badger writes its
// memtable WAL, tables and value log through memory-mapped files; on a full
// file system the page fault of such a write raises SIGBUS and the runtime
// kills the process (verified on a full tmpfs: "fatal error: fault" inside
// logFile.writeEntry), so an ENOSPC error from Badger cannot be relied on.
// The guard keeps MinFreeBytes free instead, checked before every commit
// (one statfs per group commit). An ENOSPC that still surfaces (a quota, a
// file Badger creates with write(2)) trips the guard until a probe write
// succeeds.
type diskGuard struct {
	dir     string
	minFree int64
	disk    Disk

	mu        sync.Mutex
	tripped   error // the ENOSPC a commit returned; nil when clear
	lastProbe time.Time
}

// probeEvery limits probe writes while the guard is tripped.
const probeEvery = time.Second

func newDiskGuard(dir string, minFree int64, disk Disk) *diskGuard {
	if disk == nil {
		disk = osDisk{}
	}
	if minFree <= 0 {
		minFree = DefaultMinFreeBytes
	}
	return &diskGuard{dir: dir, minFree: minFree, disk: disk}
}

// check reports whether writes may go ahead now; the error wraps
// ErrDiskFull and syscall.ENOSPC. A nil guard (in-memory store) always
// allows.
func (g *diskGuard) check() error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.checkLocked()
}

func (g *diskGuard) checkLocked() error {
	if g.tripped != nil {
		if time.Since(g.lastProbe) < probeEvery {
			return fmt.Errorf("%w: writes stopped after %v; next probe within %s: %w", ErrDiskFull, g.tripped, probeEvery, syscall.ENOSPC)
		}
		g.lastProbe = time.Now()
		if err := g.disk.Probe(g.dir); err != nil {
			return fmt.Errorf("%w: probe write in %s: %w", ErrDiskFull, g.dir, err)
		}
		g.tripped = nil
	}
	free, err := g.disk.Free(g.dir)
	if err != nil {
		// Not knowing is not a reason to refuse: the write itself will tell.
		return nil
	}
	if free < g.minFree {
		return fmt.Errorf("%w: %d bytes free on the file system of %s, below the %d kept free (retention.min_free_bytes): %w",
			ErrDiskFull, free, g.dir, g.minFree, syscall.ENOSPC)
	}
	return nil
}

// failed records a commit error; an ENOSPC stops writes until a probe
// succeeds.
func (g *diskGuard) failed(err error) {
	if g == nil || !errors.Is(err, syscall.ENOSPC) || errors.Is(err, ErrDiskFull) {
		return
	}
	g.mu.Lock()
	g.tripped = err
	g.lastProbe = time.Now()
	g.mu.Unlock()
}

// osDisk is the real file system.
type osDisk struct{}

func (osDisk) Free(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

func (osDisk) Probe(dir string) error {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	defer os.Remove(name)
	_, err = f.Write(make([]byte, 64<<10))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(name), err)
	}
	return nil
}
