package workflow

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/junctionhub/junction/core/store"
)

// dispatchBatchSize bounds how many log events become runs in one write.
const dispatchBatchSize = 512

func (e *Engine) dispatchLoop() {
	defer e.wg.Done()
	notify := e.opts.Store.Log().Notify()
	idle := time.NewTimer(time.Second)
	defer idle.Stop()
	failures := 0
	for {
		n, err := e.dispatchBatch(e.runCtx)
		if e.runCtx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			wait := min(time.Duration(failures)*200*time.Millisecond, 5*time.Second)
			e.log.Error("dispatch events", "err", err, "retry_in", wait)
			select {
			case <-e.runCtx.Done():
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
		case <-e.runCtx.Done():
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
	var runs []*store.Run
	for i := range events {
		ev := &events[i]
		triggered := forEvent(gens, ev.Seq).byTrigger[ev.Connection]
		if len(triggered) == 0 || !anyMayMatch(triggered, ev.Payload) {
			continue
		}
		doc, derr := decodeEvent(ev)
		for _, c := range triggered {
			if derr != nil {
				runs = append(runs, e.failedRun(c, ev, derr, now))
				continue
			}
			if r, ok := e.newRun(c, ev, doc, now); ok {
				runs = append(runs, r)
			}
		}
	}
	last := events[len(events)-1].Seq
	cursor := []store.KVWrite{{Key: cursorKey, Value: []byte(strconv.FormatUint(last, 10))}}
	if err := e.opts.Store.Runs().Create(ctx, runs, cursor); err != nil {
		return 0, fmt.Errorf("create %d runs for events %d..%d: %w", len(runs), after+1, last, err)
	}
	// The runs hold their versions before the dispatcher lets go of the
	// generations it has passed (defs.go).
	for _, r := range runs {
		if r.Status == store.StatusQueued {
			e.defs.track(r.ConfigVersion)
		}
	}
	e.cursorMu.Lock()
	e.cursor = last
	e.cursorMu.Unlock()
	e.defs.dispatched(last)
	if e.opts.Observer != nil {
		e.opts.Observer.Dispatched(last)
	}
	for _, r := range runs {
		if r.Status == store.StatusQueued {
			e.enqueue(r)
		} else {
			e.finished(r)
		}
	}
	return len(events), nil
}
