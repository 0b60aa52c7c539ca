//go:build unix

package wasmhost

import (
	"context"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// withGuestMemory makes instances created with ctx keep their linear memory
// in an anonymous mapping of the full memory limit, reserved but not
// committed: growing it is free (wazero's default reallocates and copies the
// whole memory on each grow, which a Go guest does several times while its
// runtime starts), and guest memory stays out of the host's Go heap, so the
// host's garbage collector neither scans nor paces by it.
func withGuestMemory(ctx context.Context) context.Context {
	return experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(allocateGuestMemory))
}

func allocateGuestMemory(capacity, maximum uint64) experimental.LinearMemory {
	if maximum == 0 || maximum > 1<<32 {
		return &heapMemory{buf: make([]byte, 0, capacity)}
	}
	buf, err := syscall.Mmap(-1, 0, int(maximum), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|mapNoReserve)
	if err != nil {
		return &heapMemory{buf: make([]byte, 0, capacity)}
	}
	return &mappedMemory{buf: buf}
}

type mappedMemory struct{ buf []byte }

func (m *mappedMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.buf)) {
		return nil // past the limit: memory.grow fails in the guest
	}
	return m.buf[:size]
}

func (m *mappedMemory) Free() {
	if m.buf != nil {
		_ = syscall.Munmap(m.buf)
		m.buf = nil
	}
}
