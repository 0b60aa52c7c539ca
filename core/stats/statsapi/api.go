// Package statsapi serves the data overview of connections over the admin
// REST API. It is apart from package stats so that counting records does
// not depend on the HTTP framework.
package statsapi

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/internal/apierror"
	"github.com/junctionhub/junction/core/stats"
	"github.com/junctionhub/junction/core/store"
)

// API holds what the data overview routes need.
type API struct {
	Recorder *stats.Recorder
	// Log is read back for a connection's latest records.
	Log store.Log
	// Known reports whether a connection is configured, so that a
	// configured connection without records yet shows zeros rather than
	// 404; nil knows only connections with records.
	Known func(name string) bool
}

// Routes adds the data overview under r (mounted at /api/v1, behind the
// admin token):
//
//	GET /connections/:name/stats                                 connection and entities
//	GET /connections/:name/stats/entities/:entity                entity, fields, metadata table
//	GET /connections/:name/stats/entities/:entity/fields/:field  field detail with top values
//	GET /connections/:name/records?entity=&limit=                latest records from the log
func (a *API) Routes(r fiber.Router) {
	h := &handlers{rec: a.Recorder, log: a.Log, known: a.Known}
	r.Get("/connections/:name/stats", h.connection)
	r.Get("/connections/:name/stats/entities/:entity", h.entity)
	r.Get("/connections/:name/stats/entities/:entity/fields/:field", h.field)
	r.Get("/connections/:name/records", h.records)
}

type handlers struct {
	rec   *stats.Recorder
	log   store.Log
	known func(string) bool
}

func apiError(c *fiber.Ctx, status int, code, msg string) error {
	return apierror.Write(c, status, code, msg, nil)
}

func (h *handlers) connection(c *fiber.Ctx) error {
	name := c.Params("name")
	s, ok := h.rec.Connection(name)
	if !ok && (h.known == nil || !h.known(name)) {
		return apiError(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("connection %q is not configured", name))
	}
	return c.JSON(fiber.Map{
		"stats": s,
		// "Reload" in the console starts a fetch.
		"reload": fiber.Map{"method": "POST", "path": "/api/v1/connections/" + name + "/fetch"},
	})
}

func (h *handlers) entity(c *fiber.Ctx) error {
	name, entity := c.Params("name"), c.Params("entity")
	s, ok := h.rec.Entity(name, entity)
	if !ok {
		return apiError(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("connection %q has no records or metadata of entity %q", name, entity))
	}
	return c.JSON(fiber.Map{"entity": s})
}

func (h *handlers) field(c *fiber.Ctx) error {
	name, entity, field := c.Params("name"), c.Params("entity"), c.Params("field")
	s, ok := h.rec.Field(name, entity, field)
	if !ok {
		return apiError(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("connection %q entity %q has no field %q", name, entity, field))
	}
	return c.JSON(fiber.Map{"field": s})
}

const maxRecordsLimit = 200

// maxScan bounds how far back the records endpoint reads the log looking for
// a connection's records, so a quiet connection on a busy hub costs a
// bounded read.
const maxScan = 50_000

func (h *handlers) records(c *fiber.Ctx) error {
	name := c.Params("name")
	if h.known != nil && !h.known(name) {
		if _, ok := h.rec.Connection(name); !ok {
			return apiError(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("connection %q is not configured", name))
		}
	}
	limit := c.QueryInt("limit", 20)
	if limit < 1 || limit > maxRecordsLimit {
		return apiError(c, fiber.StatusBadRequest, "invalid_limit", fmt.Sprintf("limit must be between 1 and %d", maxRecordsLimit))
	}
	recs, err := stats.LatestRecords(c.UserContext(), h.log, name, strings.Clone(c.Query("entity")), limit, maxScan)
	if err != nil {
		return fmt.Errorf("read records of %s: %w", name, err)
	}
	return c.JSON(fiber.Map{"records": recs})
}
