package workflow

import (
	"context"
	"errors"
	"time"

	"github.com/junctionhub/junction/core/store"
)

// dispatchLease is the lease a node holds while it dispatches: one
// dispatcher cluster-wide, so every event becomes its runs once. The
// cursor's guarded write (dispatch.go) fences a holder that lost the lease
// without noticing.
const dispatchLease = "dispatch"

// adoptedKey marks that the runs stored before the run queue existed
// were queued (adoptUnqueued).
const adoptedKey = "workflow/runqueue-adopted"

// dispatchLoop dispatches: always on a node of its own, and while it
// holds the dispatch lease when nodes share the store. A node without the
// lease keeps its cursor current for Lag and retention, and tries again a
// third of a lease TTL later.
func (e *Engine) dispatchLoop() {
	defer e.wg.Done()
	if e.opts.Leases == nil {
		e.dispatchWhile(e.runCtx)
		return
	}
	wait := e.opts.Leases.TTL() / 3
	for e.runCtx.Err() == nil {
		x, err := e.opts.Leases.Acquire(e.runCtx, dispatchLease)
		if err != nil && e.runCtx.Err() == nil {
			e.log.Warn("acquire the dispatch lease", "err", err)
		}
		if x != nil {
			e.dispatchHeld(x.Context(), x.Token())
			lost := x.Lost()
			if err := x.Release(context.WithoutCancel(e.runCtx)); err != nil {
				e.log.Warn("dispatch lease not released; it expires after its TTL", "err", err)
			}
			if lost {
				e.log.Warn("dispatch lease lost; another node dispatches")
			}
			continue
		}
		if err := e.reloadCursor(e.runCtx); err != nil && e.runCtx.Err() == nil {
			e.log.Warn("reload the dispatch cursor", "err", err)
		}
		select {
		case <-e.runCtx.Done():
		case <-time.After(wait):
		}
	}
}

// dispatchHeld dispatches while the lease is held, from the cursor as the
// last holder left it.
func (e *Engine) dispatchHeld(ctx context.Context, token uint64) {
	e.log.Info("dispatching on this node", "node", e.opts.Node, "lease_token", token)
	for ctx.Err() == nil {
		err := e.reloadCursor(ctx)
		if err == nil {
			err = e.adoptUnqueued(ctx)
		}
		if err == nil {
			break
		}
		e.log.Error("start dispatching", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	e.dispatchWhile(ctx)
}

// adoptUnqueued queues, once per store, the unfinished runs created before
// the run queue existed (they have no work message: no node would ever
// claim them). The dispatch lease makes one node do it; Requeue leaves a
// run queued already alone, so doing it again after a crash is harmless.
func (e *Engine) adoptUnqueued(ctx context.Context) error {
	if e.rq == nil {
		return nil
	}
	if _, err := e.opts.Store.KV().Get(ctx, adoptedKey); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	runs, err := e.opts.Store.Runs().Unfinished(ctx)
	if err != nil {
		return err
	}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	n, err := e.rq.Requeue(ctx, ids)
	if err != nil {
		return err
	}
	if n > 0 {
		e.log.Info("queued unfinished runs stored before the run queue", "count", n)
	}
	return e.opts.Store.KV().Set(ctx, adoptedKey, []byte("1"), 0)
}
