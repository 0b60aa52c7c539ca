//go:build wasip1

package serve

// The guest glue's //go:wasmexport entry points are linked in by this import.
import _ "github.com/junctionhub/junction/pluginsdk/wasm"

// Main does nothing under Wasm: the host calls the exports of
// pluginsdk/wasm after _initialize has run every init (and so Register).
func Main() {}
