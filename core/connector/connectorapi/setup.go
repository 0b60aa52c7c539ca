package connectorapi

import (
	"fmt"
	"log/slog"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/internal/apierror"
)

// getSetup answers GET /connections/:name/setup: the connector's setup
// steps filled in for the connection (connector.Conn.Setup), credentials
// redacted unless ?reveal=true. The admin token already guards the route;
// a reveal is logged, and its answer is not to be cached anywhere.
func (a *API) getSetup(c *fiber.Ctx) error {
	name := c.Params("name")
	conn, ok := a.Connections.Get(name)
	if !ok {
		return apierror.Write(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("connection %q is not configured", name), nil)
	}
	reveal := false
	if v := c.Query("reveal"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return apierror.Write(c, fiber.StatusBadRequest, "bad_request", fmt.Sprintf("reveal=%q: want true or false", v), nil)
		}
		reveal = b
	}
	base, from := connector.SetupBase(a.PublicURL, c.BaseURL())
	if reveal {
		c.Set(fiber.HeaderCacheControl, "no-store")
		slog.Info("setup credentials revealed", "connection", name, "ip", c.IP(), "via", "api")
	}
	return c.JSON(fiber.Map{"setup": conn.Setup(base, from, reveal)})
}
