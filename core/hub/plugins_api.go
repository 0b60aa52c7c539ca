package hub

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/plugin/registry"
	"github.com/junctionhub/junction/core/server/console"
)

// pluginView is one installed plugin version as the API shows it.
type pluginView struct {
	registry.Plugin
	// UsedBy lists the connections whose connector resolves to this version.
	UsedBy []string `json:"usedBy"`
}

// pluginViews lists installed plugins with the connections that use them.
func pluginViews(reg *registry.Registry, conns *connector.Manager) []pluginView {
	used := map[string][]string{}
	for _, c := range conns.All() {
		if _, builtin := connector.LookupBuiltin(c.Config.Connector); builtin {
			continue
		}
		if p, err := reg.Resolve(c.Config.Connector); err == nil {
			used[p.Ref()] = append(used[p.Ref()], c.Name())
		}
	}
	out := []pluginView{}
	for _, p := range reg.List() {
		v := pluginView{Plugin: *p, UsedBy: used[p.Ref()]}
		if v.UsedBy == nil {
			v.UsedBy = []string{}
		}
		out = append(out, v)
	}
	return out
}

// pluginRoutes serves GET /api/v1/plugins.
func pluginRoutes(reg *registry.Registry, conns *connector.Manager) func(fiber.Router) {
	return func(api fiber.Router) {
		api.Get("/plugins", func(c *fiber.Ctx) error {
			return c.JSON(fiber.Map{"plugins": pluginViews(reg, conns)})
		})
	}
}

// consolePlugins adapts the registry to the console's plugins page.
type consolePlugins struct{ reg *registry.Registry }

func (p consolePlugins) List(context.Context) ([]console.PluginInfo, error) {
	var out []console.PluginInfo
	for _, pl := range p.reg.List() {
		out = append(out, console.PluginInfo{
			Name: pl.Manifest.Name, Version: pl.Manifest.Version, Kind: string(pl.Manifest.Kind),
			Description: pl.Manifest.Description, Capabilities: capabilityList(pl.Granted),
			SHA256: pl.Manifest.Artifact.SHA256, Signed: pl.SignedBy != "", InstalledAt: pl.InstalledAt,
		})
	}
	return out, nil
}

func capabilityList(c registry.Capabilities) []string {
	var out []string
	if len(c.HTTPHosts) > 0 {
		out = append(out, "http: "+strings.Join(c.HTTPHosts, ", "))
	}
	if c.KV {
		out = append(out, "kv")
	}
	if len(c.Secrets) > 0 {
		out = append(out, "secrets: "+strings.Join(c.Secrets, ", "))
	}
	return out
}
