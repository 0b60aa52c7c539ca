package hub

import (
	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
)

// startExpiry starts removing what retention says is old. Events are
// expired only up to the dispatcher's cursor, so an event not yet turned
// into runs is never lost; runs carry their own copy of the payload.
func (h *Hub) startExpiry() {
	if h.badger == nil || h.Expiry != nil {
		return
	}
	r := h.Settings.Retention
	h.Expiry = h.badger.StartExpiry(store.RetentionPolicy{
		Events: r.Events, Runs: r.Runs, DeadLetters: r.DeadLetters, MaxDataBytes: r.MaxDataBytes,
		Floor: h.Engine.Cursor,
	})
}

// stopExpiry stops it before the store closes.
func (h *Hub) stopExpiry() {
	if h.Expiry != nil {
		h.Expiry.Close()
		h.Expiry = nil
	}
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

// Status gathers the hub's status.
func (h *Hub) Status(c *fiber.Ctx) (Status, error) {
	st := Status{DataDir: h.Settings.DataDir, Retention: retentionStatus(h.Settings.Retention)}
	u, err := h.badger.Usage(c.UserContext())
	if err != nil {
		return st, err
	}
	st.Store = u
	st.Writable = u.WriteError == ""
	if h.Engine != nil {
		st.LogLag = h.Engine.Lag()
	}
	if h.Expiry != nil {
		if last := h.Expiry.Last(); !last.At.IsZero() {
			st.LastSweep = &last
		}
	}
	return st, nil
}

func (h *Hub) status(c *fiber.Ctx) error {
	st, err := h.Status(c)
	if err != nil {
		return fiber.NewError(fiber.StatusInternalServerError, "status: "+err.Error())
	}
	return c.JSON(st)
}
