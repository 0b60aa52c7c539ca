package config

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultMemoryLimit is the default soft memory limit of `junction serve`
// (Settings memory_limit). The runtime counts only the Go heap and its own
// structures; the rest of a 256 MiB budget goes to what it does not count:
// mmapped store files (40-100 MiB under load, see core/store/doc.go), the
// binary's pages and thread stacks. Under a steady c64 load the heap stays
// near 50-90 MiB, well under the limit; the limit matters after a burst (a
// large batch, a hostile request), when it makes the runtime collect and
// return memory to the OS at once instead of keeping a peak-sized heap.
// Measured with the load harness's gzip bomb: 240 MiB of RSS a minute after
// the bomb with 192MiB, 59 MiB with 128MiB.
const DefaultMemoryLimit int64 = 128 << 20

// NoMemoryLimit is Settings.MemoryLimit for `memory_limit: none`.
const NoMemoryLimit int64 = -1

// memoryLimit reads memory_limit: a size (see size) or "none".
func (d *decoder) memoryLimit(n *yaml.Node, path string) (int64, bool) {
	if m := deref(n); m.Kind == yaml.ScalarNode && strings.EqualFold(strings.TrimSpace(m.Value), "none") {
		return NoMemoryLimit, true
	}
	v, ok := d.size(n, path)
	if ok && v < 16<<20 {
		d.errorf(deref(n), path, "%d bytes is too small for a soft memory limit: want at least 16MiB (or none)", v)
		return 0, false
	}
	return v, ok
}
