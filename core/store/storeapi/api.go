// Package storeapi serves the store's status over the admin REST API: disk
// use, what the store holds, and the retention that bounds it. It is apart
// from package store so that storage does not depend on the HTTP framework.
package storeapi

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
)

// API holds what GET /status needs. Every field is required.
type API struct {
	DataDir   string
	Retention config.Retention
	// Store measures disk use (a *store.Badger).
	Store interface {
		Usage(ctx context.Context) (store.Usage, error)
	}
	// Engine tells how far dispatch lags the log (a *workflow.Engine).
	Engine interface{ Lag() uint64 }
	// Sweeps tells the outcome of the last expiry pass; zero before the
	// first.
	Sweeps interface{ Last() store.Sweep }
}

// Routes adds GET /status under r (mounted at /api/v1, behind the admin
// token).
func (a *API) Routes(r fiber.Router) {
	r.Get("/status", func(c *fiber.Ctx) error {
		st, err := a.Status(c.UserContext())
		if err != nil {
			return fiber.NewError(fiber.StatusInternalServerError, "status: "+err.Error())
		}
		return c.JSON(st)
	})
}

// Status is GET /api/v1/status: disk use, what the store holds, and the
// retention that bounds it.
type Status struct {
	DataDir   string          `json:"dataDir"`
	Store     store.Usage     `json:"store"`
	Writable  bool            `json:"writable"`
	LogLag    uint64          `json:"logLag"`
	Retention RetentionStatus `json:"retention"`
	LastSweep *store.Sweep    `json:"lastSweep,omitempty"`
}

// RetentionStatus is the retention in force, durations in Go notation.
type RetentionStatus struct {
	Events       string `json:"events"`
	Runs         string `json:"runs"`
	DeadLetters  string `json:"deadLetters"`
	MaxDataBytes int64  `json:"maxDataBytes"`
	MinFreeBytes int64  `json:"minFreeBytes"`
}

func retentionStatus(r config.Retention) RetentionStatus {
	return RetentionStatus{
		Events: r.Events.String(), Runs: r.Runs.String(), DeadLetters: r.DeadLetters.String(),
		MaxDataBytes: r.MaxDataBytes, MinFreeBytes: r.MinFreeBytes,
	}
}

// Status gathers the status.
func (a *API) Status(ctx context.Context) (Status, error) {
	st := Status{DataDir: a.DataDir, Retention: retentionStatus(a.Retention)}
	u, err := a.Store.Usage(ctx)
	if err != nil {
		return st, err
	}
	st.Store = u
	st.Writable = u.WriteError == ""
	st.LogLag = a.Engine.Lag()
	if last := a.Sweeps.Last(); !last.At.IsZero() {
		st.LastSweep = &last
	}
	return st, nil
}
