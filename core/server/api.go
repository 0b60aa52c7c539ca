package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/workflow"
	"github.com/junctionhub/junction/pluginsdk"
)

type workflowSummary struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Trigger     any      `json:"trigger"`
	Tasks       []string `json:"tasks"`
	File        string   `json:"file,omitempty"`
}

func (s *Server) workflowSummaries() []workflowSummary {
	out := []workflowSummary{}
	for _, wf := range s.o.Bundle.Workflows {
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

func (s *Server) listWorkflows(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"workflows": s.workflowSummaries()})
}

func (s *Server) getWorkflow(c *fiber.Ctx) error {
	name := c.Params("name")
	for _, ws := range s.workflowSummaries() {
		if ws.Name == name {
			wf := s.o.Bundle.Workflow(name)
			return c.JSON(fiber.Map{"workflow": ws, "yaml": string(wf.YAML)})
		}
	}
	return apiError(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("workflow %q is not configured", name), nil)
}

// runWorkflow is "run test data": the body is a sample payload.
func (s *Server) runWorkflow(c *fiber.Ctx) error {
	body := c.Body()
	if !json.Valid(body) {
		return apiError(c, fiber.StatusBadRequest, "invalid_json", "the test payload is not valid JSON", nil)
	}
	run, err := s.o.Engine.RunOnce(c.UserContext(), c.Params("name"), append([]byte(nil), body...))
	var unknown *workflow.ErrUnknownWorkflow
	if errors.As(err, &unknown) {
		return apiError(c, fiber.StatusNotFound, "not_found", err.Error(), nil)
	}
	if err != nil {
		return apiError(c, fiber.StatusBadRequest, "run_failed", err.Error(), nil)
	}
	return c.JSON(fiber.Map{"run": run})
}

func (s *Server) listRuns(c *fiber.Ctx) error {
	f := store.RunFilter{
		Status:   c.Query("status"),
		Workflow: c.Query("workflow"),
		After:    c.Query("after"),
		Limit:    c.QueryInt("limit", 50),
	}
	switch f.Status {
	case "", store.StatusQueued, store.StatusRunning, store.StatusCompleted, store.StatusFailed, store.StatusRetrying, store.StatusSkipped:
	default:
		return apiError(c, fiber.StatusBadRequest, "invalid_status", fmt.Sprintf("status %q: want one of queued, running, completed, failed, retrying, skipped", f.Status), nil)
	}
	if f.Limit < 1 || f.Limit > 500 {
		return apiError(c, fiber.StatusBadRequest, "invalid_limit", "limit must be between 1 and 500", nil)
	}
	if since := c.Query("since"); since != "" {
		t, err := parseSince(since, time.Now())
		if err != nil {
			return apiError(c, fiber.StatusBadRequest, "invalid_since", err.Error(), nil)
		}
		f.Since = t
	}
	runs, next, err := s.o.Store.Runs().List(c.UserContext(), f)
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

func (s *Server) getRun(c *fiber.Ctx) error {
	r, err := s.o.Store.Runs().Get(c.UserContext(), c.Params("id"))
	if errors.Is(err, store.ErrNotFound) {
		return apiError(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("run %q not found", c.Params("id")), nil)
	}
	if err != nil {
		return fmt.Errorf("get run: %w", err)
	}
	return c.JSON(fiber.Map{"run": r})
}

func (s *Server) replayRun(c *fiber.Ctx) error {
	r, err := s.o.Engine.Replay(c.UserContext(), c.Params("id"))
	if errors.Is(err, store.ErrNotFound) {
		return apiError(c, fiber.StatusNotFound, "not_found", err.Error(), nil)
	}
	if err != nil {
		return apiError(c, fiber.StatusConflict, "replay_failed", err.Error(), nil)
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"run": r})
}

func (s *Server) listDeadLetters(c *fiber.Ctx) error {
	runs, next, err := s.o.Store.Runs().List(c.UserContext(), store.RunFilter{
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

func (s *Server) replayDeadLetters(c *fiber.Ctx) error {
	runs, err := s.o.Engine.ReplayDeadLetters(c.UserContext(), c.Query("workflow"), nil)
	if err != nil {
		return apiError(c, fiber.StatusConflict, "replay_failed", err.Error(), fiber.Map{"replayed": len(runs)})
	}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"replayed": len(runs), "runs": ids})
}

type connectionView struct {
	Name      string         `json:"name"`
	Connector string         `json:"connector"`
	Spec      pluginsdk.Spec `json:"spec"`
	Auth      string         `json:"auth"`
	Config    map[string]any `json:"config,omitempty"`
	HookURL   string         `json:"hookUrl,omitempty"`
}

func (s *Server) connectionViews(c *fiber.Ctx) []connectionView {
	out := []connectionView{}
	for _, conn := range s.o.Connections.All() {
		v := connectionView{Name: conn.Name(), Connector: conn.Config.Connector, Spec: conn.Spec, Auth: conn.Config.Auth.Type, Config: connector.RedactedConfig(conn.Config, conn.Spec)}
		if conn.ReceivesPushes() {
			base := s.o.PublicURL
			if base == "" {
				base = c.BaseURL()
			}
			v.HookURL = base + "/hooks/" + conn.Name()
		}
		out = append(out, v)
	}
	return out
}

func (s *Server) listConnections(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"connections": s.connectionViews(c)})
}

func (s *Server) getConnection(c *fiber.Ctx) error {
	for _, v := range s.connectionViews(c) {
		if v.Name == c.Params("name") {
			return c.JSON(fiber.Map{"connection": v})
		}
	}
	return apiError(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("connection %q is not configured", c.Params("name")), nil)
}

func (s *Server) getEvent(c *fiber.Ctx) error {
	ev, err := s.o.Store.Log().Get(c.UserContext(), c.Params("id"))
	if errors.Is(err, store.ErrNotFound) {
		return apiError(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("event %q not found", c.Params("id")), nil)
	}
	if err != nil {
		return apiError(c, fiber.StatusBadRequest, "invalid_id", err.Error(), nil)
	}
	return c.JSON(fiber.Map{"event": ev, "seq": strconv.FormatUint(ev.Seq, 10)})
}
