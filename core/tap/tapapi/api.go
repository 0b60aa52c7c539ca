// Package tapapi serves the live tap over the admin REST API as
// server-sent events: GET /api/v1/tap?connection=X or ?workflow=W. It is
// apart from package tap so that publishing does not depend on the HTTP
// framework.
package tapapi

import (
	"bufio"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/internal/apierror"
	"github.com/junctionhub/junction/core/tap"
)

// API holds what the tap route needs.
type API struct {
	// Broker is where the hub publishes (required).
	Broker *tap.Broker
	// Connection reports whether a connection is configured (required).
	Connection func(name string) bool
	// Workflow returns a configured workflow's trigger connection ("" for
	// a scheduled workflow) and whether the workflow is configured
	// (required).
	Workflow func(name string) (trigger string, ok bool)
	// Buffer is each subscriber's buffer in messages (default
	// tap.DefaultBuffer).
	Buffer int
	Logger *slog.Logger
}

// Routes adds GET /tap under r (mounted at /api/v1, behind the admin
// token).
func (a *API) Routes(r fiber.Router) {
	r.Get("/tap", func(c *fiber.Ctx) error {
		return a.Stream(c, strings.Clone(c.Query("connection")), strings.Clone(c.Query("workflow")))
	})
}

// writeGrace is how long one write of the stream may take. The server's
// write timeout is set once per response, which would cut every stream
// after it; the stream pushes the deadline on before each write instead,
// so only a client that stops reading is cut off.
const writeGrace = 30 * time.Second

// Stream answers c with the event stream of a connection or a workflow
// (exactly one of them), or a JSON error. The console serves its live view
// through it too, behind its session instead of the bearer token.
func (a *API) Stream(c *fiber.Ctx, connection, workflow string) error {
	f, status, code, msg := a.filter(connection, workflow)
	if status != 0 {
		return apierror.Write(c, status, code, msg, nil)
	}
	sub, err := a.Broker.Subscribe(f, a.Buffer)
	if err != nil {
		return apierror.Write(c, fiber.StatusServiceUnavailable, "shutting_down", err.Error(), nil)
	}
	log := a.Logger
	if log == nil {
		log = slog.Default()
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	// Reverse proxies (nginx) buffer responses unless told not to.
	c.Set("X-Accel-Buffering", "no")
	conn := c.Context().Conn()
	log.Info("tap attached", "connection", f.Connection, "workflow", f.Workflow)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		err := tap.Stream(w, sub, tap.StreamOptions{BeforeWrite: func() { _ = conn.SetWriteDeadline(time.Now().Add(writeGrace)) }})
		log.Info("tap detached", "connection", f.Connection, "workflow", f.Workflow, "reason", sub.Reason(), "write_err", err)
	})
	return nil
}

// filter turns the query into a tap.Filter, or says what is wrong with it
// (status 0: nothing).
func (a *API) filter(connection, workflow string) (f tap.Filter, status int, code, msg string) {
	switch {
	case connection == "" && workflow == "":
		return f, fiber.StatusBadRequest, "bad_request", "give ?connection=NAME or ?workflow=NAME"
	case connection != "" && workflow != "":
		return f, fiber.StatusBadRequest, "bad_request", "give ?connection= or ?workflow=, not both"
	case connection != "":
		if !a.Connection(connection) {
			return f, fiber.StatusNotFound, "not_found", fmt.Sprintf("connection %q is not configured", connection)
		}
		return tap.Filter{Connection: connection}, 0, "", ""
	}
	trigger, ok := a.Workflow(workflow)
	if !ok {
		return f, fiber.StatusNotFound, "not_found", fmt.Sprintf("workflow %q is not configured", workflow)
	}
	return tap.Filter{Workflow: workflow, Connection: trigger}, 0, "", ""
}
