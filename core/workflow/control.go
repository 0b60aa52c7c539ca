package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/mapping"
	"github.com/junctionhub/junction/core/store"
)

// ErrUnknownWorkflow is returned for a workflow name that is not configured.
type ErrUnknownWorkflow struct{ Name string }

func (e *ErrUnknownWorkflow) Error() string {
	return fmt.Sprintf("workflow %q is not configured", e.Name)
}

func (e *Engine) failedRun(c *compiled, ev *event.Event, err error, now time.Time) *store.Run {
	return &store.Run{
		ID: newRunID(now), ConfigVersion: c.version, Workflow: c.wf.Name, EventID: ev.ID, Connection: ev.Connection,
		Status: store.StatusFailed, Input: ev.Payload, Error: err.Error(),
		CreatedAt: now, UpdatedAt: now, FinishedAt: now,
	}
}

// RunOnce runs a workflow once on a test payload ("run test data") and
// returns the finished run. The run is stored, marked as a test, and is not
// retried or dead-lettered: a retryable failure is reported as it happened.
// A payload the filter rejects gives a run with status skipped.
func (e *Engine) RunOnce(ctx context.Context, workflow string, payload []byte) (*store.Run, error) {
	c, ok := e.defs.pick(workflow)
	if !ok {
		return nil, &ErrUnknownWorkflow{Name: workflow}
	}
	queued := false
	defer func() {
		if !queued {
			e.defs.untrack(c.version)
		}
	}()
	doc, err := mapping.Decode(payload)
	if err != nil {
		return nil, fmt.Errorf("test payload: %w", err)
	}
	now := e.opts.Now().UTC()
	ev := &event.Event{Connection: c.wf.Trigger.Connection, Payload: json.RawMessage(payload), ReceivedAt: now}
	r, matched := e.newRun(c, ev, doc, now)
	if !matched {
		r = &store.Run{
			ID: newRunID(now), ConfigVersion: c.version, Workflow: workflow, Status: store.StatusSkipped, Input: ev.Payload,
			Error: "the filter did not match this payload: no task ran", CreatedAt: now, UpdatedAt: now, FinishedAt: now,
		}
	}
	r.Test = true
	r.Connection = c.wf.Trigger.Connection
	if err := e.opts.Store.Runs().Create(ctx, []*store.Run{r}, nil); err != nil {
		return nil, fmt.Errorf("store test run: %w", err)
	}
	queued = r.Status == store.StatusQueued
	if queued {
		if _, busy := e.inflight.LoadOrStore(r.ID, struct{}{}); !busy {
			e.execute(ctx, r)
			e.inflight.Delete(r.ID)
		}
	}
	return e.opts.Store.Runs().Get(ctx, r.ID)
}

// Replay starts a new run of the same workflow on the input of run id (a
// failed or dead-lettered run, typically) and clears the old run's
// dead-letter mark. The new run records which run it replays.
func (e *Engine) Replay(ctx context.Context, id string) (*store.Run, error) {
	old, err := e.opts.Store.Runs().Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", id, err)
	}
	// A replay runs on the current version of the workflow.
	c, ok := e.defs.pick(old.Workflow)
	if !ok {
		return nil, fmt.Errorf("replay %s: %w", id, &ErrUnknownWorkflow{Name: old.Workflow})
	}
	queued := false
	defer func() {
		if !queued {
			e.defs.untrack(c.version)
		}
	}()
	doc, err := mapping.Decode(old.Input)
	if err != nil {
		return nil, fmt.Errorf("replay %s: decode input: %w", id, err)
	}
	now := e.opts.Now().UTC()
	ev := &event.Event{ID: old.EventID, Connection: old.Connection, Payload: old.Input}
	r, matched := e.newRun(c, ev, doc, now)
	if !matched {
		return nil, fmt.Errorf("replay %s: the workflow's filter no longer matches this input", id)
	}
	r.ReplayOf = old.ID
	r.Test = old.Test
	if err := e.createRuns(ctx, []*store.Run{r}, nil); err != nil {
		return nil, fmt.Errorf("replay %s: %w", id, err)
	}
	if old.DeadLetter {
		old.DeadLetter = false
		old.UpdatedAt = now
		if err := e.opts.Store.Runs().Update(ctx, old); err != nil {
			return nil, fmt.Errorf("replay %s: clear dead letter: %w", id, err)
		}
	}
	// Once queued, the run belongs to a worker, which updates it in place:
	// the caller gets a copy taken before.
	snap := r.Clone()
	e.queueLocal(r, &queued)
	return snap, nil
}

// ReplayDeadLetters replays every dead-lettered run (of one workflow, when
// workflow is not empty) and returns the new runs. progress, when set, is
// called after each replay.
func (e *Engine) ReplayDeadLetters(ctx context.Context, workflow string, progress func(done int)) ([]*store.Run, error) {
	var ids []string
	after := ""
	for {
		page, next, err := e.opts.Store.Runs().List(ctx, store.RunFilter{DeadLetter: true, Workflow: workflow, After: after, Limit: 500})
		if err != nil {
			return nil, fmt.Errorf("list dead letters: %w", err)
		}
		for _, r := range page {
			ids = append(ids, r.ID)
		}
		if next == "" {
			break
		}
		after = next
	}
	var out []*store.Run
	for _, id := range ids {
		r, err := e.Replay(ctx, id)
		if err != nil {
			return out, err
		}
		out = append(out, r)
		if progress != nil {
			progress(len(out))
		}
	}
	return out, nil
}

// Trigger starts a run of a workflow on payload, as its trigger would (the
// scheduler uses it for schedule-triggered workflows). Unlike RunOnce it is
// queued like any run: retried, dead-lettered, and not marked as a test. A
// payload the filter rejects starts nothing and returns (nil, nil).
func (e *Engine) Trigger(ctx context.Context, workflow string, payload []byte) (*store.Run, error) {
	c, ok := e.defs.pick(workflow)
	if !ok {
		return nil, &ErrUnknownWorkflow{Name: workflow}
	}
	queued := false
	defer func() {
		if !queued {
			e.defs.untrack(c.version)
		}
	}()
	doc, err := mapping.Decode(payload)
	if err != nil {
		return nil, fmt.Errorf("trigger %s: payload: %w", workflow, err)
	}
	now := e.opts.Now().UTC()
	r, matched := e.newRun(c, &event.Event{Payload: json.RawMessage(payload)}, doc, now)
	if !matched {
		return nil, nil
	}
	if err := e.createRuns(ctx, []*store.Run{r}, nil); err != nil {
		return nil, fmt.Errorf("trigger %s: %w", workflow, err)
	}
	// Once queued, the run belongs to a worker, which updates it in place:
	// the caller gets a copy taken before.
	snap := r.Clone()
	e.queueLocal(r, &queued)
	return snap, nil
}

// queueLocal hands a new queued run to this node's workers, unless the
// shared run queue hands it to a node (then any node's worker tracks its
// version when it claims it). queued tells the caller whether the run
// now holds its version.
func (e *Engine) queueLocal(r *store.Run, queued *bool) {
	if *queued = r.Status == store.StatusQueued && e.rq == nil; *queued {
		e.enqueue(r)
	}
}
