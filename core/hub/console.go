package hub

import (
	"context"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/plugin/registry"
	"github.com/junctionhub/junction/core/server/console"
	"github.com/junctionhub/junction/core/tap/tapapi"
)

// newConsole builds the web console over the subsystems Open built before
// it, through the console's own small interfaces (console/sources.go),
// adapted here: no domain package knows the console.
func newConsole(h *Hub, dirs *directory.Service, adminHash [32]byte, tapAPI *tapapi.API) (*console.Console, error) {
	loc, _ := time.LoadLocation(h.Settings.Timezone) // newEngine refused an unknown one
	return console.New(console.Options{
		Store: h.Store, Engine: h.Engine, Bundle: h.Bundle, Connections: h.Conns,
		Current: h.CurrentBundle, ConfigVersion: h.ConfigVersion,
		AdminTokenHash: adminHash, Logger: h.log, PublicURL: h.Settings.PublicURL,
		Node:      h.Settings.Store.NodeName(),
		Directory: consoleDirectory(dirs),
		Stats:     newConsoleStats(h.Stats, h.Store.Log(), loc),
		Ops:       consoleOps{fetch: h.Fetch, conns: h.Conns},
		Plugins:   consolePlugins{h.Plugins.Registry()},
		Alerts:    consoleAlerts{h.Alerts},
		Tap:       tapAPI.Stream,
	})
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
			Signer: pl.SignedBy, Source: pl.Source, SourceDigest: pl.SourceDigest,
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
