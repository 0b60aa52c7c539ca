// Package pluginapi serves the installed connector plugins over the admin
// REST API. It is apart from the plugin registry so that installing and
// resolving plugins does not depend on the HTTP framework.
package pluginapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/plugin/pluginsync"
	"github.com/junctionhub/junction/core/plugin/registry"
)

// API holds what the plugin routes need.
type API struct {
	Registry *registry.Registry
	// Connections tell which connections use each plugin version.
	Connections *connector.Manager
	// Refused lists the plugins shared by the cluster that this node's
	// checks refused (pluginsync); nil on a single node.
	Refused func() []pluginsync.Refusal
}

// Routes adds GET /plugins under r (mounted at /api/v1, behind the admin
// token): every installed plugin version, one entry per installed form,
// with the connections using it; on a cluster, also "refused": the
// plugins other nodes shared that this node did not install, and why.
func (a *API) Routes(r fiber.Router) {
	r.Get("/plugins", func(c *fiber.Ctx) error {
		body := fiber.Map{"plugins": a.views()}
		if a.Refused != nil {
			body["refused"] = a.Refused()
		}
		return c.JSON(body)
	})
}

// view is one installed plugin version, in one form, as the API shows it.
// The top-level id, form, digest and signer repeat what the embedded
// manifest and install record hold, so a client need not know their shape.
type view struct {
	registry.Plugin
	// ID is name@version/form, the reference that pins this install.
	ID   string        `json:"id"`
	Form registry.Kind `json:"form"`
	// Digest is the artifact's checksum, "sha256:<hex>".
	Digest string `json:"digest"`
	// Signer is the trusted key that verified the signature; "" unsigned.
	Signer string `json:"signer"`
	// UsedBy lists the connections whose connector resolves to this install.
	UsedBy []string `json:"usedBy"`
}

// views lists installed plugins with the connections that use them.
func (a *API) views() []view {
	used := map[string][]string{}
	for _, c := range a.Connections.All() {
		if _, builtin := connector.LookupBuiltin(c.Config.Connector); builtin {
			continue
		}
		if p, err := a.Registry.Resolve(c.Config.Connector); err == nil {
			used[p.ID()] = append(used[p.ID()], c.Name())
		}
	}
	out := []view{}
	for _, p := range a.Registry.List() {
		v := view{
			Plugin: *p, ID: p.ID(), Form: p.Manifest.Kind, Digest: "sha256:" + p.Manifest.Artifact.SHA256,
			Signer: p.SignedBy, UsedBy: used[p.ID()],
		}
		if v.UsedBy == nil {
			v.UsedBy = []string{}
		}
		out = append(out, v)
	}
	return out
}
