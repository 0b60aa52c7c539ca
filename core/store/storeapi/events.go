package storeapi

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/internal/apierror"
	"github.com/junctionhub/junction/core/store"
)

// Events serves the event log's entries. It is apart from API, which needs
// the disk and the engine, because reading an event needs only the log.
type Events struct {
	// Log is the durable event log (required).
	Log store.Log
}

// Routes adds GET /events/:id under r (mounted at /api/v1, behind the
// admin token): one stored event, and its sequence number as a string.
func (e *Events) Routes(r fiber.Router) {
	r.Get("/events/:id", e.getEvent)
}

func (e *Events) getEvent(c *fiber.Ctx) error {
	ev, err := e.Log.Get(c.UserContext(), c.Params("id"))
	if errors.Is(err, store.ErrNotFound) {
		return apierror.Write(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("event %q not found", c.Params("id")), nil)
	}
	if err != nil {
		return apierror.Write(c, fiber.StatusBadRequest, "invalid_id", err.Error(), nil)
	}
	return c.JSON(fiber.Map{"event": ev, "seq": strconv.FormatUint(ev.Seq, 10)})
}
