package workflowapi

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/internal/apierror"
	"github.com/junctionhub/junction/core/workflow"
)

// dryRunParam reads ?dryRun=; absent is false, and anything but a boolean
// is refused rather than read as false, which would perform the tasks.
func dryRunParam(c *fiber.Ctx) (bool, error) {
	v := c.Query("dryRun")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("dryRun=%q: want true or false", v)
	}
	return b, nil
}

// dryRun answers {"dryRun": {...}}: the fields and each task's rendered
// input, credentials redacted. No task runs and no run is stored.
func (a *API) dryRun(c *fiber.Ctx, body []byte) error {
	d, err := a.Engine.DryRun(c.UserContext(), c.Params("name"), append([]byte(nil), body...))
	var unknown *workflow.ErrUnknownWorkflow
	if errors.As(err, &unknown) {
		return apierror.Write(c, fiber.StatusNotFound, "not_found", err.Error(), nil)
	}
	if err != nil {
		return apierror.Write(c, fiber.StatusBadRequest, "dry_run_failed", err.Error(), nil)
	}
	return c.JSON(fiber.Map{"dryRun": d})
}
