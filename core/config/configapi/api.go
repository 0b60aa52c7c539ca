// Package configapi serves the running configuration over the admin REST
// API: its version, and `junction apply` (hot reload). It is apart from
// package config so that config does not depend on the HTTP framework.
package configapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/internal/apierror"
)

// Reloader is the hub's side of a hot reload.
type Reloader interface {
	// Version is the configuration running now.
	Version() config.Version
	// Apply validates srcs as a whole, exactly as at start, and swaps the
	// running configuration for them; on any problem it changes nothing
	// and returns config.Errors.
	Apply(ctx context.Context, srcs []config.Source, how string) (*config.ApplyResult, error)
}

// API holds what the config routes need.
type API struct {
	Reloader Reloader
}

// File is one configuration file as `junction apply` posts it: its name
// as given on the command line (errors are reported under it) and its
// contents.
type File struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

// ApplyRequest is the body of POST /config/apply.
type ApplyRequest struct {
	Files []File `json:"files"`
}

// Routes adds, under r (mounted at /api/v1, behind the admin token):
//
//	GET  /config        the running version
//	POST /config/apply  validate and apply a whole configuration
func (a *API) Routes(r fiber.Router) {
	r.Get("/config", func(c *fiber.Ctx) error {
		return c.JSON(a.Reloader.Version())
	})
	r.Post("/config/apply", a.apply)
}

func (a *API) apply(c *fiber.Ctx) error {
	var req ApplyRequest
	if err := c.BodyParser(&req); err != nil {
		return apierror.Write(c, fiber.StatusBadRequest, "bad_request", "body: want {\"files\": [{\"name\", \"content\"}]}: "+err.Error(), nil)
	}
	if len(req.Files) == 0 {
		return apierror.Write(c, fiber.StatusBadRequest, "bad_request", "no files: apply takes the whole configuration (the files or folders the hub was started with)", nil)
	}
	srcs := make([]config.Source, len(req.Files))
	seen := map[string]bool{}
	for i, f := range req.Files {
		if f.Name == "" {
			return apierror.Write(c, fiber.StatusBadRequest, "bad_request", fmt.Sprintf("files[%d]: no name", i), nil)
		}
		if seen[f.Name] {
			return apierror.Write(c, fiber.StatusBadRequest, "bad_request", fmt.Sprintf("files[%d]: %s is posted twice", i, f.Name), nil)
		}
		seen[f.Name] = true
		srcs[i] = config.Source{Name: f.Name, Data: []byte(f.Content)}
	}
	res, err := a.Reloader.Apply(c.UserContext(), srcs, config.AppliedByAPI)
	if err != nil {
		return writeApplyError(c, err)
	}
	return c.JSON(res)
}

// writeApplyError answers 422 with each problem as "file:line:col: message"
// in details.errors when the configuration was refused, 500 otherwise.
func writeApplyError(c *fiber.Ctx, err error) error {
	var es config.Errors
	if errors.As(err, &es) {
		lines := make([]string, len(es))
		for i, e := range es {
			lines[i] = e.Error()
		}
		msg := "the configuration has 1 error; nothing was changed"
		if len(es) > 1 {
			msg = fmt.Sprintf("the configuration has %d errors; nothing was changed", len(es))
		}
		return apierror.Write(c, fiber.StatusUnprocessableEntity, "invalid_config", msg, fiber.Map{"errors": lines})
	}
	return apierror.Write(c, fiber.StatusInternalServerError, "apply_failed", "apply: "+err.Error(), nil)
}
