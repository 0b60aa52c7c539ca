package wasmhost

import (
	"strconv"

	"github.com/tetratelabs/wazero"

	"github.com/junctionhub/junction/pluginsdk/wasm/abi"
)

// guestGOGC is the GOGC a guest's Go runtime starts with (Go's default is
// 100). A receive in a Go guest allocates a few hundred bytes of garbage per
// event, and each GC cycle marks the runtime's own live data with Wasm code
// and turns write barriers on: at 400 the hello mapping costs 11 % fewer
// instructions per event than at 100 (pluginsdk/RATIONALE.md §8), for a
// steady instance size of about 20 MiB instead of 8 MiB. Higher values gain
// a little more and keep a bigger heap in every pooled instance.
const guestGOGC = 400

// guestGCEnv returns the only environment a guest gets: GOGC, and a
// GOMEMLIMIT that keeps the Go heap inside the instance's linear memory.
// Without the soft limit a higher GOGC could grow the heap goal past
// the memory limit and abort a guest that GOGC=100 would have kept alive;
// with it the guest collects harder as it nears the limit instead. The limit
// itself stays enforced by wazero (memory.grow fails past
// RuntimeOptions.MemoryLimitPages, and the call fails with code "memory").
// GOMEMLIMIT is the memory the Go runtime can still grow into (the limit
// less the module's initial memory, which holds its static data), less an
// eighth as margin: the runtime grows memory in 4 MiB arenas and reacts to
// the soft limit after the fact.
//
// Go reads both at start, before any allocation, so a module built with any
// SDK version gets them; a non-Go module ignores them.
func guestGCEnv(cm wazero.CompiledModule, limitPages uint32) [][2]string {
	env := [][2]string{{"GOGC", strconv.Itoa(guestGOGC)}}
	var initial uint32
	if mem, ok := cm.ExportedMemories()[abi.ExportMemory]; ok {
		initial = mem.Min()
	}
	if limitPages > initial {
		room := uint64(limitPages-initial) * 65536
		env = append(env, [2]string{"GOMEMLIMIT", strconv.FormatUint(room-room/8, 10)})
	}
	return env
}
