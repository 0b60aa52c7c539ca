// Package connectorapi serves the configured connections over the admin
// REST API: each with its connector's spec, its configuration with secrets
// redacted, and the URL that receives its pushes. It is apart from package
// connector so that connections do not depend on the HTTP framework.
package connectorapi

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/internal/apierror"
	"github.com/junctionhub/junction/pluginsdk"
)

// API holds what the connection routes need.
type API struct {
	// Connections are the open connections (required).
	Connections *connector.Manager
	// PublicURL is the hub's URL as callers see it, the base of a hook URL;
	// when empty, the URL the request came to is used.
	PublicURL string
}

// Routes adds the routes under r (mounted at /api/v1, behind the admin
// token):
//
//	GET /connections         every connection
//	GET /connections/:name   one connection
//	GET /connections/:name/setup[?reveal=true]   how to point its sender at it (setup.go)
func (a *API) Routes(r fiber.Router) {
	r.Get("/connections", a.listConnections)
	r.Get("/connections/:name", a.getConnection)
	r.Get("/connections/:name/setup", a.getSetup)
}

type connectionView struct {
	Name      string         `json:"name"`
	Connector string         `json:"connector"`
	Spec      pluginsdk.Spec `json:"spec"`
	Auth      string         `json:"auth"`
	Config    map[string]any `json:"config,omitempty"`
	HookURL   string         `json:"hookUrl,omitempty"`
}

func (a *API) connectionViews(c *fiber.Ctx) []connectionView {
	out := []connectionView{}
	for _, conn := range a.Connections.All() {
		v := connectionView{Name: conn.Name(), Connector: conn.Config.Connector, Spec: conn.Spec, Auth: conn.Config.Auth.Type, Config: connector.RedactedConfig(conn.Config, conn.Spec)}
		if conn.ReceivesPushes() {
			base := a.PublicURL
			if base == "" {
				base = c.BaseURL()
			}
			v.HookURL = base + "/hooks/" + conn.Name()
		}
		out = append(out, v)
	}
	return out
}

func (a *API) listConnections(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"connections": a.connectionViews(c)})
}

func (a *API) getConnection(c *fiber.Ctx) error {
	for _, v := range a.connectionViews(c) {
		if v.Name == c.Params("name") {
			return c.JSON(fiber.Map{"connection": v})
		}
	}
	return apierror.Write(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("connection %q is not configured", c.Params("name")), nil)
}
