package schedule

import "github.com/gofiber/fiber/v2"

// Routes adds GET /schedules under r (mounted at /api/v1): every schedule
// with its next run and the outcome of its last run.
func Routes(r fiber.Router, s *Scheduler) {
	r.Get("/schedules", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"schedules": s.Status()})
	})
}
