// Package fetchapi serves a connection's operations over the admin REST
// API: fetch jobs, metadata, credentials and the webhook key. It is apart
// from package fetch so that fetching does not depend on the HTTP framework.
package fetchapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/internal/apierror"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// API holds what the connection-operation routes need.
type API struct {
	Runner *fetch.Runner
	Store  store.Store
	// Reconfigure, when set, applies new credentials to a running
	// connection at once (the connection manager re-configures its
	// connector); when nil they apply at the next start (ReconnectAuth).
	Reconfigure func(ctx context.Context, connection string, auth pluginsdk.Auth) error
	// KeyRotated, when set, makes a rotated webhook key effective at once
	// (the manager re-configures the webhook connector with it); when nil
	// it applies at the next start (WebhookKey).
	KeyRotated func(ctx context.Context, connection, key string) error
	Logger     *slog.Logger
}

// Routes adds the connection operations under r (mounted at /api/v1, behind
// the admin token):
//
//	POST /connections/:name/fetch          start a fetch job (body or query: metadataOnly, entities)
//	GET  /connections/:name/jobs           the connection's jobs, newest first (?limit=)
//	GET  /connections/:name/jobs/:id       one job (live while it runs)
//	GET  /connections/:name/metadata       the entities and fields last fetched
//	POST /connections/:name/reconnect      replace credentials (body: auth JSON)
//	GET  /connections/:name/key            the rotated webhook API key
//	POST /connections/:name/key/rotate     make a new webhook API key, returned once
func (a *API) Routes(r fiber.Router) {
	if a.Logger == nil {
		a.Logger = slog.Default()
	}
	r.Post("/connections/:name/fetch", a.startFetch)
	r.Get("/connections/:name/jobs", a.listJobs)
	r.Get("/connections/:name/jobs/:id", a.getJob)
	r.Get("/connections/:name/metadata", a.getMetadata)
	r.Post("/connections/:name/reconnect", a.reconnect)
	r.Get("/connections/:name/key", a.showKey)
	r.Post("/connections/:name/key/rotate", a.rotateKey)
}

func apiError(c *fiber.Ctx, status int, code, msg string, details any) error {
	return apierror.Write(c, status, code, msg, details)
}

// name returns the :name parameter, copied: fiber's strings point into a
// buffer reused after the request, and a job keeps the name.
func name(c *fiber.Ctx) string { return strings.Clone(c.Params("name")) }

// known reports whether the connection is configured.
func (a *API) known(n string) bool {
	_, err := a.Runner.Lookup(n)
	return err == nil
}

func notConfigured(c *fiber.Ctx, n string) error {
	return apiError(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("connection %q is not configured", n), nil)
}

type fetchBody struct {
	MetadataOnly bool     `json:"metadataOnly"`
	Entities     []string `json:"entities"`
}

func (a *API) startFetch(c *fiber.Ctx) error {
	n := name(c)
	if !a.known(n) {
		return notConfigured(c, n)
	}
	var body fetchBody
	if len(c.Body()) > 0 {
		if err := json.Unmarshal(c.Body(), &body); err != nil {
			return apiError(c, fiber.StatusBadRequest, "invalid_json", "body: want {\"metadataOnly\": bool, \"entities\": [string]}: "+err.Error(), nil)
		}
	}
	if c.QueryBool("metadataOnly") {
		body.MetadataOnly = true
	}
	if e := c.Query("entity"); e != "" {
		body.Entities = append(body.Entities, strings.Clone(e))
	}
	job, err := a.Runner.Start(c.UserContext(), n, fetch.RunOptions{Entities: body.Entities, MetadataOnly: body.MetadataOnly, Trigger: fetch.TriggerManual})
	var busy *fetch.ErrBusy
	switch {
	case errors.As(err, &busy):
		return apiError(c, fiber.StatusConflict, "fetch_running", busy.Error(), fiber.Map{"job": busy.Job})
	case errors.Is(err, fetch.ErrNotFetchable):
		return apiError(c, fiber.StatusBadRequest, "not_fetchable", err.Error(), nil)
	case err != nil:
		return fmt.Errorf("start fetch of %s: %w", n, err)
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"job": job})
}

func (a *API) listJobs(c *fiber.Ctx) error {
	n := name(c)
	if !a.known(n) {
		return notConfigured(c, n)
	}
	limit := c.QueryInt("limit", 20)
	if limit < 1 || limit > fetch.KeptJobs {
		return apiError(c, fiber.StatusBadRequest, "invalid_limit", fmt.Sprintf("limit must be between 1 and %d", fetch.KeptJobs), nil)
	}
	jobs, err := a.Runner.Jobs(c.UserContext(), n, limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"jobs": jobs})
}

func (a *API) getJob(c *fiber.Ctx) error {
	n := name(c)
	if !a.known(n) {
		return notConfigured(c, n)
	}
	job, err := a.Runner.Job(c.UserContext(), n, c.Params("id"))
	if errors.Is(err, store.ErrNotFound) {
		return apiError(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("connection %s has no fetch job %q", n, c.Params("id")), nil)
	}
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"job": job})
}

func (a *API) getMetadata(c *fiber.Ctx) error {
	n := name(c)
	if !a.known(n) {
		return notConfigured(c, n)
	}
	md, err := a.Runner.StoredMetadata(c.UserContext(), n)
	if errors.Is(err, store.ErrNotFound) {
		return apiError(c, fiber.StatusNotFound, "no_metadata", fmt.Sprintf("no metadata fetched for %s yet: run `junction connection fetch %s --metadata-only`", n, n), nil)
	}
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"metadata": md})
}

func (a *API) reconnect(c *fiber.Ctx) error {
	n := name(c)
	if !a.known(n) {
		return notConfigured(c, n)
	}
	var auth pluginsdk.Auth
	dec := json.NewDecoder(strings.NewReader(string(c.Body())))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&auth); err != nil {
		return apiError(c, fiber.StatusBadRequest, "invalid_auth", "body: want an auth object {type, secret | username, password | tokenURL, clientID, clientSecret, scopes}: "+err.Error(), nil)
	}
	if err := fetch.ValidateAuth(auth); err != nil {
		return apiError(c, fiber.StatusBadRequest, "invalid_auth", err.Error(), nil)
	}
	if err := fetch.SaveReconnectAuth(c.UserContext(), a.Store.Secrets(), n, auth); err != nil {
		return err
	}
	applied := false
	if a.Reconfigure != nil {
		if err := a.Reconfigure(c.UserContext(), n, auth); err != nil {
			// The credentials are stored; saying so lets the operator fix
			// the cause and reconnect again.
			return apiError(c, fiber.StatusBadGateway, "reconfigure_failed", fmt.Sprintf("credentials of %s stored, but the connector rejected them: %v", n, err), nil)
		}
		applied = true
	}
	a.Logger.Info("connection credentials replaced", "connection", n, "auth_type", auth.Type, "applied", applied)
	return c.JSON(fiber.Map{"connection": n, "authType": auth.Type, "applied": applied})
}

func (a *API) showKey(c *fiber.Ctx) error {
	n := name(c)
	if !a.known(n) {
		return notConfigured(c, n)
	}
	key, ok, err := fetch.WebhookKey(c.UserContext(), a.Store.Secrets(), n)
	if err != nil {
		return err
	}
	if ok {
		return c.JSON(fiber.Map{"connection": n, "key": key, "source": "rotated"})
	}
	if conn, _ := a.Runner.Lookup(n); conn != nil && conn.Config.Auth.Type == string(pluginsdk.AuthAPIKey) && conn.Config.Auth.Secret != "" {
		return c.JSON(fiber.Map{"connection": n, "key": conn.Config.Auth.Secret, "source": "config"})
	}
	return apiError(c, fiber.StatusNotFound, "no_key", fmt.Sprintf("connection %s has no API key: rotate one with POST /api/v1/connections/%s/key/rotate", n, n), nil)
}

func (a *API) rotateKey(c *fiber.Ctx) error {
	n := name(c)
	if !a.known(n) {
		return notConfigured(c, n)
	}
	key, err := fetch.RotateWebhookKey(c.UserContext(), a.Store.Secrets(), n)
	if err != nil {
		return err
	}
	applied := false
	if a.KeyRotated != nil {
		if err := a.KeyRotated(c.UserContext(), n, key); err != nil {
			return apiError(c, fiber.StatusBadGateway, "reconfigure_failed", fmt.Sprintf("new key of %s stored, but applying it failed: %v", n, err), nil)
		}
		applied = true
	}
	a.Logger.Info("webhook key rotated", "connection", n, "applied", applied)
	return c.JSON(fiber.Map{"connection": n, "key": key, "source": "rotated", "applied": applied})
}
