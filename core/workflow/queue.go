package workflow

import (
	"context"
	"errors"
	"time"

	"github.com/junctionhub/junction/core/store"
)

// With a shared store (store.RunQueue) a node's workers take runs from the
// queue instead of memory: each run is claimed by one node at a time,
// confirmed while it executes, handed back with a delay for a retry (no
// node holds a run that waits), and taken over by another node when its
// node stops confirming it (it died). The run then resumes from its stored
// state at its first unfinished task, with the same idempotency keys.

// claimWait bounds one wait for a run, so a closing engine is not held up.
const claimWait = 2 * time.Second

// storeRetry is how soon a run goes back to the queue when its state could
// not be read or stored.
const storeRetry = 5 * time.Second

// errClaimLost ends a run's execution when its claim could not be
// confirmed in time: another node may hold the run now.
var errClaimLost = errors.New("claim on the run lost")

func (e *Engine) queueWorker() {
	defer e.wg.Done()
	failures := 0
	for e.runCtx.Err() == nil {
		c, err := e.rq.Claim(e.runCtx, claimWait)
		if e.runCtx.Err() != nil {
			if c != nil {
				_ = c.RetryAt(context.WithoutCancel(e.runCtx), time.Time{}) // to another node at once
			}
			return
		}
		if err != nil {
			failures++
			wait := min(time.Duration(failures)*200*time.Millisecond, 5*time.Second)
			e.log.Error("claim a run", "err", err, "retry_in", wait)
			select {
			case <-e.runCtx.Done():
			case <-time.After(wait):
			}
			continue
		}
		failures = 0
		if c != nil {
			e.runClaimed(c)
		}
	}
}

// runClaimed executes a claimed run and settles the claim from the run's
// stored state: finished, waiting for a retry, or (its state could not be
// stored) back to the queue shortly.
func (e *Engine) runClaimed(c store.RunClaim) {
	ctx := context.WithoutCancel(e.runCtx)
	id := c.RunID()
	r, err := c.Run(ctx)
	if errors.Is(err, store.ErrNotFound) {
		e.log.Info("claimed run expired; taking it off the queue", "run_id", id)
		e.settle(ctx, c, nil)
		return
	}
	if err != nil {
		e.log.Error("load claimed run", "run_id", id, "err", err)
		e.handBack(ctx, c, e.opts.Now().Add(storeRetry))
		return
	}
	if !unfinished(r.Status) || r.Status == store.StatusRetrying && r.NextAt.After(e.opts.Now()) {
		e.settle(ctx, c, r)
		return
	}
	if _, busy := e.inflight.LoadOrStore(id, struct{}{}); busy {
		e.handBack(ctx, c, e.opts.Now().Add(time.Second))
		return
	}
	defer e.inflight.Delete(id)
	e.defs.track(r.ConfigVersion)
	hctx, stop := e.holdClaim(ctx, c)
	e.execute(hctx, r)
	lost := errors.Is(context.Cause(hctx), errClaimLost)
	stop()
	if unfinished(r.Status) {
		e.defs.untrack(r.ConfigVersion) // finish untracks the others
	}
	if lost {
		e.log.Warn("run handed to another node: its claim could not be confirmed", "run_id", id)
		return
	}
	// The stored state decides: a run whose last write failed must not be
	// taken off the queue as if it had finished.
	stored, err := c.Run(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		e.log.Error("reload run", "run_id", id, "err", err)
		e.handBack(ctx, c, e.opts.Now().Add(storeRetry))
		return
	}
	e.settle(ctx, c, stored)
}

// settle ends a claim by the run's stored state (nil: gone).
func (e *Engine) settle(ctx context.Context, c store.RunClaim, r *store.Run) {
	switch {
	case r == nil || !unfinished(r.Status):
		if err := c.Done(ctx); err != nil {
			e.log.Warn("finish run claim; the run comes back and is finished then", "run_id", c.RunID(), "err", err)
		}
	case r.Status == store.StatusRetrying:
		e.handBack(ctx, c, r.NextAt)
	default:
		// Still running or queued as stored: an update failed.
		e.handBack(ctx, c, e.opts.Now().Add(storeRetry))
	}
}

func (e *Engine) handBack(ctx context.Context, c store.RunClaim, at time.Time) {
	if err := c.RetryAt(ctx, at); err != nil {
		e.log.Warn("hand back run; it comes back after its claim times out", "run_id", c.RunID(), "err", err)
	}
}

// holdClaim confirms the claim every third of its timeout while the run
// executes. If no confirmation got through for two thirds of it, the
// returned context ends with errClaimLost: the run stops before its next
// task and writes nothing more, as another node may have it by then.
func (e *Engine) holdClaim(ctx context.Context, c store.RunClaim) (context.Context, func()) {
	hctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	timeout := e.rq.ClaimTimeout()
	go func() {
		t := time.NewTicker(timeout / 3)
		defer t.Stop()
		lastOK := time.Now()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			ectx, ecancel := context.WithTimeout(hctx, timeout/3)
			err := c.Extend(ectx)
			ecancel()
			if err == nil {
				lastOK = time.Now()
				continue
			}
			if time.Since(lastOK) >= timeout*2/3 {
				cancel(errClaimLost)
				return
			}
			e.log.Warn("confirm run claim; retrying", "run_id", c.RunID(), "err", err)
		}
	}()
	return hctx, func() { close(done); cancel(nil) }
}

func unfinished(status string) bool {
	return status == store.StatusQueued || status == store.StatusRunning || status == store.StatusRetrying
}
