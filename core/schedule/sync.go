package schedule

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/junctionhub/junction/core/config"
)

// Want is one schedule a configuration asks for (hot reload).
type Want struct {
	Key   string
	Sched *config.Schedule
	Run   Func
}

// Wants are the schedules of a configuration: the fetches of pull
// connections and the schedule-triggered workflows.
func Wants(conns []*config.Connection, f ConnectionFetcher, wfs []*config.Workflow, w WorkflowStarter) []Want {
	var out []Want
	for _, c := range conns {
		if c.Schedule == nil {
			continue
		}
		name := c.Name
		out = append(out, Want{Key: ConnectionKey(name), Sched: c.Schedule, Run: func(ctx context.Context, at time.Time) error {
			return f.FetchScheduled(ctx, name, at)
		}})
	}
	for _, wf := range wfs {
		if wf.Trigger.Schedule == nil {
			continue
		}
		name := wf.Name
		out = append(out, Want{Key: WorkflowKey(name), Sched: wf.Trigger.Schedule, Run: func(ctx context.Context, at time.Time) error {
			return w.StartScheduled(ctx, name, at)
		}})
	}
	return out
}

// Check reports the schedules that could not be applied, without changing
// anything.
func (s *Scheduler) Check(wants []Want) error {
	var errs []error
	for _, w := range wants {
		if _, err := NewSpec(w.Sched, s.o.Timezone); err != nil {
			errs = append(errs, fmt.Errorf("schedule %s: %w", w.Key, err))
		}
	}
	return errors.Join(errs...)
}

// Sync makes the scheduled entries those of wants: an entry no longer
// wanted is dropped (a run of it in progress finishes), an unchanged one
// keeps its next run, and a new or changed one is added as at start (a
// changed schedule is applied from now).
func (s *Scheduler) Sync(ctx context.Context, wants []Want) error {
	want := map[string]Want{}
	for _, w := range wants {
		want[w.Key] = w
	}
	var add []Want
	s.mu.Lock()
	for key, e := range s.entries {
		w, ok := want[key]
		if !ok {
			delete(s.entries, key)
			continue
		}
		spec, err := NewSpec(w.Sched, s.o.Timezone)
		if err == nil && spec.String() == e.spec.String() {
			// Kept with its run function: it does the same (names are
			// keys), and a run in progress reads it without the lock.
			delete(want, key)
			continue
		}
		delete(s.entries, key)
	}
	s.mu.Unlock()
	for _, w := range wants {
		if _, ok := want[w.Key]; ok {
			add = append(add, w)
		}
	}
	var errs []error
	for _, w := range add {
		if err := s.Add(ctx, w.Key, w.Sched, w.Run); err != nil {
			errs = append(errs, err)
		}
	}
	s.poke()
	return errors.Join(errs...)
}
