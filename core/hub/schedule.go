package hub

import (
	"context"
	"log/slog"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/schedule"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/workflow"
)

// newScheduler schedules the fetches of pull connections and the
// schedule-triggered workflows; nothing fires before Start. Missed slots
// are reported to missed (alerts).
func newScheduler(ctx context.Context, s config.Settings, b *config.Bundle, kv store.KV, f *fetch.Runner, e *workflow.Engine, missed func(string, time.Time, string), log *slog.Logger) (*schedule.Scheduler, error) {
	sc := schedule.New(schedule.Options{KV: kv, Timezone: s.Timezone, Logger: log, Missed: missed})
	if err := sc.AddConnections(ctx, b.Connections, f); err != nil {
		return nil, err
	}
	if err := sc.AddWorkflows(ctx, b.Workflows, scheduledStarter{e}); err != nil {
		return nil, err
	}
	return sc, nil
}

// scheduledStarter starts schedule-triggered workflows with the scheduler's
// payload ({"scheduledAt", "workflow"}).
type scheduledStarter struct{ e *workflow.Engine }

func (s scheduledStarter) StartScheduled(ctx context.Context, wf string, at time.Time) error {
	_, err := s.e.Trigger(ctx, wf, schedule.WorkflowPayload(wf, at))
	return err
}
