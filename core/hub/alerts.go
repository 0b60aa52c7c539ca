package hub

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/alert"
	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/schedule"
	"github.com/junctionhub/junction/core/server"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/tap"
	"github.com/junctionhub/junction/core/workflow"
)

// newAlerts builds the alert engine over the connections it notifies
// through and tells it about refused pushes; the engine, the fetch runner
// and the scheduler, built after it, report to it (alertObserver,
// fetchJobDone, scheduleMissed). lag is read on its ticks, once the
// workflow engine exists.
func newAlerts(ctx context.Context, b *config.Bundle, kv store.KV, conns *connector.Manager, lag func() uint64, metrics *server.Metrics, log *slog.Logger) (*alert.Engine, error) {
	e, err := alert.New(ctx, alert.Options{KV: kv, Alerts: b.Alerts, Actions: conns, Lag: lag, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := metrics.Register(e.Collectors()...); err != nil {
		return nil, err
	}
	metrics.OnRejected(func(conn, reason string, n int) {
		if authRefusal[reason] {
			e.AuthRefused(conn, reason, n)
		}
	})
	return e, nil
}

// authRefusal are the refusal reasons that mean wrong or missing
// credentials (auth_failures), as opposed to a bad body or a rate limit.
var authRefusal = map[string]bool{"unauthorized": true, "client_cert_required": true, "client_cert_invalid": true}

// engineObserver reports the engine's outcomes to the metrics, finished
// runs to the alerts and, as stored, to the live tap.
type engineObserver struct {
	*server.Metrics
	alerts *alert.Engine
	tap    *tap.Broker
}

var (
	_ workflow.RunObserver = engineObserver{}
	_ workflow.RunWatcher  = engineObserver{}
)

// WatchRun implements workflow.RunWatcher.
func (o engineObserver) WatchRun(r *store.Run) { o.tap.PublishRun(r) }

func (o engineObserver) RunDone(r workflow.RunResult) {
	o.alerts.RunFinished(r.Workflow, r.ID, r.Status == store.StatusFailed, r.DeadLetter, r.Test, r.Error)
}

func fetchJobDone(a *alert.Engine) func(fetch.Job) {
	return func(j fetch.Job) {
		if !j.MetadataOnly {
			a.FetchJobEnded(j.Connection, j.ID, j.Status == fetch.StatusFailed, j.Error)
		}
	}
}

func scheduleMissed(a *alert.Engine) func(string, time.Time, string) {
	return func(key string, slot time.Time, reason string) {
		if name, ok := strings.CutPrefix(key, schedule.WorkflowKey("")); ok {
			a.ScheduleMissed(name, "", slot, reason)
		} else if name, ok := strings.CutPrefix(key, schedule.ConnectionKey("")); ok {
			a.ScheduleMissed("", name, slot, reason)
		}
	}
}
