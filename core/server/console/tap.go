package console

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The live views on the connection and workflow pages read these event
// streams with EventSource, which sends the session cookie (same origin)
// but cannot send a bearer token: the console serves the API's stream
// behind its own session instead.

func (con *Console) tapConnection(c *fiber.Ctx) error {
	if con.o.Tap == nil {
		return con.notFound(c, "The live tap is not available.")
	}
	return con.o.Tap(c, strings.Clone(c.Params("name")), "")
}

func (con *Console) tapWorkflow(c *fiber.Ctx) error {
	if con.o.Tap == nil {
		return con.notFound(c, "The live tap is not available.")
	}
	return con.o.Tap(c, "", strings.Clone(c.Params("name")))
}
