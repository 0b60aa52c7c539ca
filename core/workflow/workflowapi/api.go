// Package workflowapi serves workflows, runs and dead letters over the
// admin REST API: what is configured, what ran, and running or replaying
// them. It is apart from package workflow so that the engine does not
// depend on the HTTP framework.
package workflowapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/internal/apierror"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/workflow"
)

// API holds what the workflow, run and dead-letter routes need. Every
// field is required.
type API struct {
	// Bundle lists the configured workflows.
	Bundle *config.Bundle
	// Current, when set, returns the running configuration instead of
	// Bundle (it changes with a hot reload).
	Current func() *config.Bundle
	// Engine runs a workflow on test data and replays runs.
	Engine *workflow.Engine
	// Store lists and reads runs.
	Store store.Store
}

// Routes adds the routes under r (mounted at /api/v1, behind the admin
// token):
//
//	GET  /workflows                 the configured workflows
//	GET  /workflows/:name           one workflow, with its YAML
//	POST /workflows/:name/run       run it on the body, a sample payload
//	                                (?dryRun=true: render the tasks, run none)
//	GET  /runs                      ?status=&workflow=&since=&after=&limit=
//	GET  /runs/:id                  one run, with its tasks
//	POST /runs/:id/replay           run it again as a new run
//	GET  /dead-letters              ?workflow=&after=&limit=
//	POST /dead-letters/replay       replay them all (?workflow=)
func (a *API) Routes(r fiber.Router) {
	r.Get("/workflows", a.listWorkflows)
	r.Get("/workflows/:name", a.getWorkflow)
	r.Post("/workflows/:name/run", a.runWorkflow)
	r.Get("/runs", a.listRuns)
	r.Get("/runs/:id", a.getRun)
	r.Post("/runs/:id/replay", a.replayRun)
	r.Get("/dead-letters", a.listDeadLetters)
	r.Post("/dead-letters/replay", a.replayDeadLetters)
}

type workflowSummary struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Trigger     any      `json:"trigger"`
	Tasks       []string `json:"tasks"`
	File        string   `json:"file,omitempty"`
}

func (a *API) workflowSummaries() []workflowSummary {
	out := []workflowSummary{}
	for _, wf := range a.bundle().Workflows {
		ws := workflowSummary{Name: wf.Name, Description: wf.Description, File: wf.File, Tasks: []string{}}
		if wf.Trigger.Connection != "" {
			ws.Trigger = fiber.Map{"connection": wf.Trigger.Connection}
		} else if wf.Trigger.Schedule != nil {
			ws.Trigger = fiber.Map{"schedule": wf.Trigger.Schedule}
		}
		for _, t := range wf.Tasks {
			ws.Tasks = append(ws.Tasks, t.Name+" ("+t.Uses+")")
		}
		out = append(out, ws)
	}
	return out
}

func (a *API) listWorkflows(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"workflows": a.workflowSummaries()})
}

func (a *API) getWorkflow(c *fiber.Ctx) error {
	name := c.Params("name")
	for _, ws := range a.workflowSummaries() {
		if ws.Name == name {
			wf := a.bundle().Workflow(name)
			return c.JSON(fiber.Map{"workflow": ws, "yaml": string(wf.YAML)})
		}
	}
	return apierror.Write(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("workflow %q is not configured", name), nil)
}

// runWorkflow is "run test data": the body is a sample payload. It runs
// the tasks for real (side effects included) and stores a test run;
// ?dryRun=true only renders them (dryrun.go).
func (a *API) runWorkflow(c *fiber.Ctx) error {
	body := c.Body()
	if !json.Valid(body) {
		return apierror.Write(c, fiber.StatusBadRequest, "invalid_json", "the test payload is not valid JSON", nil)
	}
	dry, err := dryRunParam(c)
	if err != nil {
		return apierror.Write(c, fiber.StatusBadRequest, "invalid_dry_run", err.Error(), nil)
	}
	if dry {
		return a.dryRun(c, body)
	}
	run, err := a.Engine.RunOnce(c.UserContext(), c.Params("name"), append([]byte(nil), body...))
	var unknown *workflow.ErrUnknownWorkflow
	if errors.As(err, &unknown) {
		return apierror.Write(c, fiber.StatusNotFound, "not_found", err.Error(), nil)
	}
	if err != nil {
		return apierror.Write(c, fiber.StatusBadRequest, "run_failed", err.Error(), nil)
	}
	return c.JSON(fiber.Map{"run": run})
}

func (a *API) listRuns(c *fiber.Ctx) error {
	f := store.RunFilter{
		Status:   c.Query("status"),
		Workflow: c.Query("workflow"),
		After:    c.Query("after"),
		Limit:    c.QueryInt("limit", 50),
	}
	switch f.Status {
	case "", store.StatusQueued, store.StatusRunning, store.StatusCompleted, store.StatusFailed, store.StatusRetrying, store.StatusSkipped:
	default:
		return apierror.Write(c, fiber.StatusBadRequest, "invalid_status", fmt.Sprintf("status %q: want one of queued, running, completed, failed, retrying, skipped", f.Status), nil)
	}
	if f.Limit < 1 || f.Limit > 500 {
		return apierror.Write(c, fiber.StatusBadRequest, "invalid_limit", "limit must be between 1 and 500", nil)
	}
	if since := c.Query("since"); since != "" {
		t, err := parseSince(since, time.Now())
		if err != nil {
			return apierror.Write(c, fiber.StatusBadRequest, "invalid_since", err.Error(), nil)
		}
		f.Since = t
	}
	runs, next, err := a.Store.Runs().List(c.UserContext(), f)
	if err != nil {
		return fmt.Errorf("list runs: %w", err)
	}
	if runs == nil {
		runs = []*store.Run{}
	}
	return c.JSON(fiber.Map{"runs": runs, "next": next})
}

// parseSince accepts an RFC 3339 time or a duration back from now ("24h").
func parseSince(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("since %q: want an RFC 3339 time (2026-01-02T15:04:05Z) or a duration (24h)", v)
}

func (a *API) getRun(c *fiber.Ctx) error {
	r, err := a.Store.Runs().Get(c.UserContext(), c.Params("id"))
	if errors.Is(err, store.ErrNotFound) {
		return apierror.Write(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("run %q not found", c.Params("id")), nil)
	}
	if err != nil {
		return fmt.Errorf("get run: %w", err)
	}
	return c.JSON(fiber.Map{"run": r})
}

func (a *API) replayRun(c *fiber.Ctx) error {
	r, err := a.Engine.Replay(c.UserContext(), c.Params("id"))
	if errors.Is(err, store.ErrNotFound) {
		return apierror.Write(c, fiber.StatusNotFound, "not_found", err.Error(), nil)
	}
	if err != nil {
		return apierror.Write(c, fiber.StatusConflict, "replay_failed", err.Error(), nil)
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"run": r})
}

func (a *API) listDeadLetters(c *fiber.Ctx) error {
	runs, next, err := a.Store.Runs().List(c.UserContext(), store.RunFilter{
		DeadLetter: true, Workflow: c.Query("workflow"), After: c.Query("after"), Limit: c.QueryInt("limit", 50),
	})
	if err != nil {
		return fmt.Errorf("list dead letters: %w", err)
	}
	if runs == nil {
		runs = []*store.Run{}
	}
	return c.JSON(fiber.Map{"runs": runs, "next": next})
}

func (a *API) replayDeadLetters(c *fiber.Ctx) error {
	runs, err := a.Engine.ReplayDeadLetters(c.UserContext(), c.Query("workflow"), nil)
	if err != nil {
		return apierror.Write(c, fiber.StatusConflict, "replay_failed", err.Error(), fiber.Map{"replayed": len(runs)})
	}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"replayed": len(runs), "runs": ids})
}

func (a *API) bundle() *config.Bundle {
	if a.Current != nil {
		return a.Current()
	}
	return a.Bundle
}
