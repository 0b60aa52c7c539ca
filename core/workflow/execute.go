package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/mapping"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

func (e *Engine) worker() {
	defer e.wg.Done()
	for {
		select {
		case <-e.runCtx.Done():
			return
		case r := <-e.queue:
			// Tasks run under their own timeout, not the engine's context, so
			// that Close lets an attempt in flight finish (graceful drain).
			e.execute(context.WithoutCancel(e.runCtx), r)
			if e.beforeRelease != nil {
				e.beforeRelease()
			}
			e.release(r.ID)
		}
	}
}

// enqueue hands a run to the workers unless it is already queued or running
// in this process.
func (e *Engine) enqueue(r *store.Run) {
	if _, busy := e.inflight.LoadOrStore(r.ID, struct{}{}); busy {
		return
	}
	select {
	case e.queue <- r:
	case <-e.runCtx.Done():
		e.inflight.Delete(r.ID)
	}
}

// release ends a worker's hold on run id. A retry timer that fired while
// the run was still held (a short backoff, or Retry-After: 0, can beat the
// worker back here) left a mark instead of being dropped: the run is then
// reloaded and queued again.
func (e *Engine) release(id string) {
	e.retryMu.Lock()
	e.inflight.Delete(id)
	again := e.retryWanted[id]
	delete(e.retryWanted, id)
	e.retryMu.Unlock()
	if again {
		e.wg.Add(1)
		go func() { // not inline: enqueue may wait for a free worker, and this is one
			defer e.wg.Done()
			e.enqueueStored(id)
		}()
	}
}

// enqueueRetry queues a run whose retry is due, or marks it for release
// when a worker still holds it.
func (e *Engine) enqueueRetry(id string) {
	e.retryMu.Lock()
	if _, busy := e.inflight.Load(id); busy {
		e.retryWanted[id] = true
		e.retryMu.Unlock()
		return
	}
	e.retryMu.Unlock()
	e.enqueueStored(id)
}

// enqueueStored loads run id and queues it if it still has work to do.
func (e *Engine) enqueueStored(id string) {
	r, err := e.opts.Store.Runs().Get(e.runCtx, id)
	if err != nil {
		if e.runCtx.Err() == nil {
			e.log.Error("load run for retry", "run_id", id, "err", err)
		}
		return
	}
	if r.Status != store.StatusRetrying && r.Status != store.StatusQueued && r.Status != store.StatusRunning {
		return // finished meanwhile (a replay, or the held attempt succeeded)
	}
	e.enqueue(r)
}

func (e *Engine) scheduleRetry(id string, at time.Time) {
	if e.rq != nil {
		return // the worker hands the run back to the queue until at (queue.go)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	if old := e.timers[id]; old != nil {
		old.Stop()
	}
	e.timers[id] = time.AfterFunc(time.Until(at), func() {
		e.mu.Lock()
		delete(e.timers, id)
		closed := e.closed
		e.mu.Unlock()
		if closed {
			return
		}
		e.enqueueRetry(id)
	})
}

// claimLost reports that the run's claim from the shared queue lapsed
// (queue.go); never on a single node.
func claimLost(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errClaimLost)
}

// templateData is what task templates see.
func templateData(r *store.Run, doc any) map[string]any {
	tasks := make(map[string]any, len(r.Tasks))
	for _, t := range r.Tasks {
		if t.Status != store.StatusCompleted {
			continue
		}
		var out any
		if len(t.Output) > 0 {
			if v, err := mapping.Decode(t.Output); err == nil {
				out = v
			}
		}
		tasks[t.Name] = map[string]any{"output": out}
	}
	fields := r.Fields
	if fields == nil {
		fields = map[string]any{}
	}
	return map[string]any{
		"event":  doc,
		"fields": fields,
		"tasks":  tasks,
		"run":    map[string]any{"id": r.ID, "workflow": r.Workflow, "eventId": r.EventID},
	}
}

// execute runs the remaining tasks of r, storing each task's result before
// the next one starts.
func (e *Engine) execute(ctx context.Context, r *store.Run) {
	c, problem := e.definitionOf(r)
	if c == nil {
		r.Status = store.StatusFailed
		r.Error = problem
		e.finish(ctx, r)
		return
	}
	switch r.Status {
	case store.StatusCompleted, store.StatusFailed, store.StatusSkipped:
		return
	}
	doc, err := mapping.Decode(r.Input)
	if err != nil {
		r.Status = store.StatusFailed
		r.Error = "decode input: " + err.Error()
		e.finish(ctx, r)
		return
	}
	var ev *event.Event
	if r.EventID != "" {
		// Tasks date things by the event (a transaction's default date), so
		// they get the logged event, times included.
		if logged, err := e.opts.Store.Log().Get(ctx, r.EventID); err == nil {
			ev = &logged
		} else {
			ev = &event.Event{ID: r.EventID, Connection: r.Connection, Payload: r.Input}
		}
	}
	data := templateData(r, doc)
	tasksOut := data["tasks"].(map[string]any)
	r.Status = store.StatusRunning
	for i, t := range c.wf.Tasks {
		tr := &r.Tasks[i]
		if tr.Status == store.StatusCompleted || tr.Status == store.StatusSkipped {
			continue
		}
		if claimLost(ctx) {
			return
		}
		if cond := c.wf.Compiled.If[t.Name]; cond != nil {
			v, err := cond.Render(data)
			if err != nil {
				e.failTask(ctx, r, tr, &pluginsdk.Error{Code: "render", Message: "if: " + err.Error()}, false)
				return
			}
			if !truthy(v) {
				tr.Status = store.StatusSkipped
				continue
			}
		}
		done := e.runTask(ctx, r, c, t, tr, data, ev)
		if !done {
			return
		}
		var out any
		if len(tr.Output) > 0 {
			out, _ = mapping.Decode(tr.Output)
		}
		tasksOut[t.Name] = map[string]any{"output": out}
		if i < len(c.wf.Tasks)-1 {
			// Persist progress so a crash resumes after this task.
			if err := e.update(ctx, r); err != nil {
				return
			}
		}
	}
	r.Status = store.StatusCompleted
	r.Error = ""
	e.finish(ctx, r)
}

// runTask performs one attempt of task t. It returns true when the task
// completed; otherwise it has recorded the failure or scheduled a retry.
func (e *Engine) runTask(ctx context.Context, r *store.Run, c *compiled, t config.Task, tr *store.TaskRun, data map[string]any, ev *event.Event) bool {
	wf := c.wf
	var input json.RawMessage
	if v := wf.Compiled.With[t.Name]; v != nil {
		rendered, err := v.Render(data)
		if err != nil {
			e.failTask(ctx, r, tr, &pluginsdk.Error{Code: "render", Message: "render input: " + err.Error()}, false)
			return false
		}
		if input, err = json.Marshal(rendered); err != nil {
			e.failTask(ctx, r, tr, &pluginsdk.Error{Code: "render", Message: "encode input: " + err.Error()}, false)
			return false
		}
	} else {
		input = json.RawMessage("{}")
	}
	tr.Input = input
	exec, err := c.res.Resolve(t.Uses)
	if err != nil {
		e.failTask(ctx, r, tr, &pluginsdk.Error{Code: "resolve", Message: err.Error()}, false)
		return false
	}
	tr.Attempts++
	tr.Node = e.opts.Node
	tr.Status = store.StatusRunning
	start := e.opts.Now()
	tr.StartedAt = start.UTC()
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = e.opts.TaskTimeout
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	out, err := exec.Execute(tctx, &task.Call{
		RunID: r.ID, Workflow: r.Workflow, Task: t.Name, Input: input,
		IdempotencyKey: r.ID + "/" + t.Name, Attempt: tr.Attempts, Event: ev,
	})
	cancel()
	if claimLost(ctx) {
		return false // another node may run it now: record nothing
	}
	end := e.opts.Now()
	tr.FinishedAt = end.UTC()
	tr.DurationMS = float64(end.Sub(start).Microseconds()) / 1000
	if err != nil && errors.Is(err, context.DeadlineExceeded) && tctx.Err() != nil {
		err = &pluginsdk.Error{Code: "timeout", Message: fmt.Sprintf("task timed out after %s", timeout), Retryable: true}
	}
	if e.opts.Observer != nil {
		status := store.StatusCompleted
		if err != nil {
			status = store.StatusFailed
		}
		e.opts.Observer.TaskFinished(r.Workflow, t.Name, status, end.Sub(start))
	}
	if err == nil {
		tr.Status = store.StatusCompleted
		tr.Output = out
		tr.Error = nil
		r.Attempt = 0
		return true
	}
	perr := pluginsdk.AsError(err)
	policy := e.policy(t)
	if perr.Retryable && tr.Attempts < policy.MaxAttempts && !r.Test {
		tr.Status = store.StatusRetrying
		tr.Error = &store.TaskError{Code: perr.Code, Message: perr.Message, Retryable: true}
		r.Status = store.StatusRetrying
		r.Attempt = tr.Attempts
		r.NextAt = end.Add(backoff(policy, tr.Attempts, perr.RetryAfter)).UTC()
		r.Error = fmt.Sprintf("task %s: %s (attempt %d of %d, retrying at %s)", t.Name, perr.Message, tr.Attempts, policy.MaxAttempts, r.NextAt.Format(time.RFC3339))
		if e.update(ctx, r) == nil {
			e.scheduleRetry(r.ID, r.NextAt)
		}
		return false
	}
	e.failTask(ctx, r, tr, perr, perr.Retryable)
	return false
}

// failTask records a task's final failure and fails the run; an exhausted
// retryable failure also dead-letters it.
func (e *Engine) failTask(ctx context.Context, r *store.Run, tr *store.TaskRun, perr *pluginsdk.Error, exhausted bool) {
	tr.Status = store.StatusFailed
	tr.Error = &store.TaskError{Code: perr.Code, Message: perr.Message, Retryable: perr.Retryable}
	r.Status = store.StatusFailed
	r.Error = fmt.Sprintf("task %s: %s", tr.Name, perr.Message)
	if exhausted {
		r.Error = fmt.Sprintf("task %s: %s (gave up after %d attempts)", tr.Name, perr.Message, tr.Attempts)
		r.DeadLetter = !r.Test
	}
	e.finish(ctx, r)
}

func (e *Engine) finish(ctx context.Context, r *store.Run) {
	r.FinishedAt = e.opts.Now().UTC()
	r.NextAt = time.Time{}
	if e.update(ctx, r) == nil {
		e.finished(r)
	}
	e.defs.untrack(r.ConfigVersion)
}

func (e *Engine) update(ctx context.Context, r *store.Run) error {
	if claimLost(ctx) {
		return errClaimLost
	}
	r.UpdatedAt = e.opts.Now().UTC()
	if err := e.opts.Store.Runs().Update(ctx, r); err != nil {
		// The run stays as last stored and resumes at the next start.
		e.log.Error("store run", "run_id", r.ID, "workflow", r.Workflow, "err", err)
		return err
	}
	return nil
}

func (e *Engine) policy(t config.Task) config.RetryPolicy {
	p := e.opts.Retry
	if t.Retry != nil {
		if t.Retry.MaxAttempts > 0 {
			p.MaxAttempts = t.Retry.MaxAttempts
		}
		if t.Retry.InitialInterval > 0 {
			p.InitialInterval = t.Retry.InitialInterval
		}
		if t.Retry.MaxInterval > 0 {
			p.MaxInterval = t.Retry.MaxInterval
		}
	}
	return p
}

// backoff is exponential with "equal jitter" (half fixed, half random), so
// retries of many runs that failed together spread out; a longer Retry-After
// from the target wins.
func backoff(p config.RetryPolicy, attempt int, retryAfter time.Duration) time.Duration {
	d := p.InitialInterval
	for i := 1; i < attempt && d < p.MaxInterval; i++ {
		d *= 2
	}
	d = min(d, p.MaxInterval)
	d = d/2 + rand.N(d/2+1)
	return max(d, retryAfter)
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		switch x {
		case "", "false", "0", "no", "<no value>":
			return false
		}
		return true
	case json.Number:
		return x.String() != "0"
	case float64:
		return x != 0
	}
	return true
}
