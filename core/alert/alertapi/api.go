// Package alertapi serves the alerts over the admin REST API. It is apart
// from package alert so that the alert engine does not depend on the HTTP
// framework.
package alertapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/alert"
)

// API holds what the alert routes need.
type API struct {
	Alerts *alert.Engine
}

// Routes adds GET /alerts under r (mounted at /api/v1): every configured
// alert, firing ones first, and the recent notices, newest first.
func (a *API) Routes(r fiber.Router) {
	r.Get("/alerts", func(c *fiber.Ctx) error {
		return c.JSON(a.Alerts.Status())
	})
}
