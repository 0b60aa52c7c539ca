package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
)

// fakeDisk is a file system whose free space and probe outcome a test sets.
type fakeDisk struct {
	mu       sync.Mutex
	free     int64
	probeErr error
}

func (d *fakeDisk) Free(string) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.free, nil
}

func (d *fakeDisk) Probe(string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.probeErr
}

func (d *fakeDisk) set(free int64, probeErr error) {
	d.mu.Lock()
	d.free, d.probeErr = free, probeErr
	d.mu.Unlock()
}

func TestDiskGuard(t *testing.T) {
	enospc := fmt.Errorf("write 000001.vlog: %w", syscall.ENOSPC)
	tests := []struct {
		name string
		// full makes the disk full, the way the case is about.
		full func(s *Badger, d *fakeDisk)
		// free gives the space back.
		free func(s *Badger, d *fakeDisk)
	}{
		{
			name: "free space below the reserve",
			full: func(s *Badger, d *fakeDisk) { d.set(1<<20, nil) },
			free: func(s *Badger, d *fakeDisk) { d.set(1<<30, nil) },
		},
		{
			name: "a write fails with ENOSPC",
			full: func(s *Badger, d *fakeDisk) {
				d.set(1<<30, syscall.ENOSPC)
				s.commit.fault = func() error { return enospc }
			},
			free: func(s *Badger, d *fakeDisk) {
				d.set(1<<30, nil)
				s.commit.fault = nil
				s.commit.guard.mu.Lock()
				s.commit.guard.lastProbe = s.commit.guard.lastProbe.Add(-probeEvery) // no waiting for the next probe
				s.commit.guard.mu.Unlock()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			disk := &fakeDisk{free: 1 << 30}
			opts := testOptions()
			opts.Disk = disk
			opts.MinFreeBytes = 64 << 20
			s := openAt(t, t.TempDir(), opts)
			ctx := context.Background()
			acked := mustAppend(t, s, req("c", `{"n":1}`))

			tt.full(s, disk)
			for i := range 2 { // the second write meets the tripped guard
				_, err := s.Log().Append(ctx, []AppendRequest{req("c", `{"n":2}`)})
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("append %d on a full disk: err %v, want ENOSPC", i, err)
				}
			}
			if err := s.WriteError(); !errors.Is(err, ErrDiskFull) {
				t.Errorf("WriteError = %v, want ErrDiskFull", err)
			}
			if err := s.KV().Set(ctx, "k", []byte("v"), 0); !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("KV Set on a full disk: %v, want ENOSPC", err)
			}
			if evs, _ := s.Log().Read(ctx, 0, 10); len(evs) != 1 {
				t.Fatalf("log holds %d events, want only the one acknowledged", len(evs))
			}

			tt.free(s, disk)
			if err := s.WriteError(); err != nil {
				t.Errorf("WriteError after freeing space = %v", err)
			}
			again := mustAppend(t, s, req("c", `{"n":3}`))
			evs, err := s.Log().Read(ctx, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 2 || evs[0].ID != acked[0].ID || evs[1].ID != again[0].ID {
				t.Errorf("log after recovery: %+v, want %s then %s", evs, acked[0].ID, again[0].ID)
			}
		})
	}
}

// Expiry still runs while writes are refused: it is how space comes back.
func TestDiskGuardLetsExpiryThrough(t *testing.T) {
	disk := &fakeDisk{free: 1 << 30}
	opts := testOptions()
	opts.Disk = disk
	s := openAt(t, t.TempDir(), opts)
	mustAppend(t, s, req("c", `{"n":1}`), req("c", `{"n":2}`))
	disk.set(0, nil)
	if err := s.deleteKeys(context.Background(), [][]byte{logKey(1)}); err != nil {
		t.Fatalf("expiry delete on a full disk: %v", err)
	}
	if _, err := s.Log().Get(context.Background(), "evt_0000000000000001"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired event still there: %v", err)
	}
}
