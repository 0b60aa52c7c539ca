package workflow

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/junctionhub/junction/core/store"
)

// dispatchBatchSize bounds how many log events become runs in one write.
const dispatchBatchSize = 512

// maxRunsPerWrite bounds the runs of one write: on JetStream a queued run
// is two messages of an atomic batch of at most 1000.
const maxRunsPerWrite = 400

// dispatchWhile dispatches until ctx ends: the engine's, or the dispatch
// lease's when nodes share the store (dispatchlease.go).
func (e *Engine) dispatchWhile(ctx context.Context) {
	notify := e.opts.Store.Log().Notify()
	idle := time.NewTimer(time.Second)
	defer idle.Stop()
	failures := 0
	for {
		n, err := e.dispatchBatch(ctx)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, store.ErrConflict) {
			// Another node moved the cursor (it held the dispatch lease
			// while this one had not noticed losing it): its runs stand,
			// this batch is dropped, and dispatching goes on from there.
			e.log.Warn("dispatch cursor moved by another node; reloading it", "err", err)
			if err = e.reloadCursor(ctx); err == nil {
				continue
			}
		}
		if err != nil {
			failures++
			wait := min(time.Duration(failures)*200*time.Millisecond, 5*time.Second)
			e.log.Error("dispatch events", "err", err, "retry_in", wait)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			continue
		}
		failures = 0
		if n > 0 {
			continue
		}
		idle.Reset(time.Second)
		select {
		case <-ctx.Done():
			return
		case <-notify:
		case <-idle.C:
		}
	}
}

// dispatchBatch turns the next events of the log into runs. It returns how
// many events it consumed.
func (e *Engine) dispatchBatch(ctx context.Context) (int, error) {
	e.cursorMu.Lock()
	after := e.cursor
	e.cursorMu.Unlock()
	events, err := e.opts.Store.Log().Read(ctx, after, dispatchBatchSize)
	if err != nil {
		return 0, fmt.Errorf("read log after %d: %w", after, err)
	}
	if len(events) == 0 {
		return 0, nil
	}
	now := e.opts.Now().UTC()
	gens := e.defs.generations()
	var runs, evRuns []*store.Run
	consumed := 0
	for i := range events {
		ev := &events[i]
		evRuns = evRuns[:0]
		triggered := forEvent(gens, ev.Seq).byTrigger[ev.Connection]
		if len(triggered) > 0 && anyMayMatch(triggered, ev.Payload) {
			doc, derr := decodeEvent(ev)
			for _, c := range triggered {
				if derr != nil {
					evRuns = append(evRuns, e.failedRun(c, ev, derr, now))
					continue
				}
				if r, ok := e.newRun(c, ev, doc, now); ok {
					evRuns = append(evRuns, r)
				}
			}
		}
		// One write holds the runs of whole events only, and no more
		// than fit one atomic batch on JetStream.
		if consumed > 0 && len(runs)+len(evRuns) > maxRunsPerWrite {
			break
		}
		runs = append(runs, evRuns...)
		consumed++
	}
	last := events[consumed-1].Seq
	e.cursorMu.Lock()
	expect := e.cursorRaw
	e.cursorMu.Unlock()
	next := []byte(strconv.FormatUint(last, 10))
	// Guarded by the value read or written last: a node that lost the
	// dispatch lease cannot create runs for events another node
	// dispatched (store.ErrConflict).
	cursor := []store.KVWrite{{Key: cursorKey, Value: next, Guard: true, Expect: expect}}
	if err := e.createRuns(ctx, runs, cursor); err != nil {
		return 0, fmt.Errorf("create %d runs for events %d..%d: %w", len(runs), after+1, last, err)
	}
	// The runs hold their versions before the dispatcher lets go of the
	// generations it has passed (defs.go); queued runs a shared queue hands
	// out are held by the node that claims them instead.
	for _, r := range runs {
		if r.Status == store.StatusQueued && e.rq == nil {
			e.defs.track(r.ConfigVersion)
		}
	}
	e.cursorMu.Lock()
	e.cursor, e.cursorRaw = last, next
	e.cursorMu.Unlock()
	e.defs.dispatched(last)
	if e.opts.Observer != nil {
		e.opts.Observer.Dispatched(last)
	}
	for _, r := range runs {
		switch {
		case r.Status != store.StatusQueued:
			e.finished(r)
		case e.rq == nil:
			e.enqueue(r)
		}
	}
	return consumed, nil
}
