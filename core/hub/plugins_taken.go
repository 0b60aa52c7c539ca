package hub

import (
	"log/slog"

	"github.com/junctionhub/junction/core/names"
	"github.com/junctionhub/junction/core/plugin/registry"
)

// refuseTaken logs, at start-up, each installed plugin whose name belongs to
// a builtin (installed before the builtin existed, or by a Junction that did
// not check). Resolve refuses such a plugin whenever a connection asks for
// it; this says so once, where the operator looks, with what to do, instead
// of the builtin silently taking the plugin's place.
func refuseTaken(reg *registry.Registry, log *slog.Logger) {
	for _, p := range reg.List() {
		if err := names.Taken(p.Manifest.Name); err != nil {
			log.Error("plugin refused", "plugin", p.Ref(), "err", err)
		}
	}
}
