package hub

import (
	"slices"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/pluginsdk"
)

// Receives implements config.ReceiveChecker: a builtin's spec, or an
// installed plugin's manifest, says whether the connector has the receive
// role; a bundled plugin not built yet cannot tell.
func (c checker) Receives(name string) (bool, bool) {
	if b, ok := connector.LookupBuiltin(name); ok {
		return b.New().Spec().HasRole(pluginsdk.RoleReceive), true
	}
	if c.reg != nil {
		if pl, err := c.reg.Resolve(name); err == nil && len(pl.Manifest.Connector.Roles) > 0 {
			return slices.Contains(pl.Manifest.Connector.Roles, pluginsdk.RoleReceive), true
		}
	}
	return false, false
}
