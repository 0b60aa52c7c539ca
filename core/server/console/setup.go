package console

import (
	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/connector"
)

// renderConnection renders a connection's page, with the credentials in
// its Setup section shown when reveal is set.
func (con *Console) renderConnection(c *fiber.Ctx, conn *connector.Conn, reveal bool) error {
	base, from := connector.SetupBase(con.o.PublicURL, c.BaseURL())
	v := &connectionView{Card: con.card(c, conn), HasOps: con.o.Ops != nil, Setup: conn.Setup(base, from, reveal)}
	v.Title, v.Section = "Connection "+conn.Name(), "connections"
	return con.render(c, fiber.StatusOK, "connection", v)
}

// revealSetup answers the Setup section's "Show credentials" form: the
// same page, credentials filled in. It is a POST (session and CSRF token
// checked, like every form) answered directly rather than redirected, so
// the credentials are in no URL, history entry or cache.
func (con *Console) revealSetup(c *fiber.Ctx) error {
	conn, ok := con.o.Connections.Get(c.Params("name"))
	if !ok {
		return con.notFound(c, "There is no connection "+c.Params("name")+".")
	}
	con.log.Info("setup credentials revealed", "connection", conn.Name(), "ip", c.IP(), "via", "console")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return con.renderConnection(c, conn, true)
}
