// Package scheduleapi serves the schedules over the admin REST API. It is
// apart from package schedule so that the scheduler does not depend on the
// HTTP framework.
package scheduleapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/schedule"
)

// API holds what the schedule routes need.
type API struct {
	Scheduler *schedule.Scheduler
}

// Routes adds GET /schedules under r (mounted at /api/v1): every schedule
// with its next run and the outcome of its last run.
func (a *API) Routes(r fiber.Router) {
	r.Get("/schedules", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"schedules": a.Scheduler.Status()})
	})
}
