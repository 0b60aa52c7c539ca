package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/junctionhub/junction/core/lease"
	"github.com/junctionhub/junction/core/store"
)

// Several nodes sharing one store each run a Scheduler with the same
// entries. A due slot is fired by whichever node takes the lease
// "lease/schedule/<key>" (LeaseName); it keeps the lease while the slot
// runs. Under the lease the state in the KV, not the node's memory, says
// whether the slot is still due, so a slot another node already fired is
// adopted instead of fired again: once per period cluster-wide. A node
// that finds the lease taken adopts the stored state if it has moved on,
// and otherwise looks again after claimRetry. If the holder dies, its
// lease expires after the lease TTL and the next due slot fires on
// another node; the slot it was running counts as interrupted and is not
// repeated by the others (a restart of that node repeats it, as before).
// On one node every lease is won, so nothing changes there.

// claimRetry is how long a node waits before looking again at a due slot
// that another node holds the lease of.
const claimRetry = time.Second

// LeaseName names the lease of the schedule entry key.
func LeaseName(key string) string { return "schedule/" + url.PathEscape(key) }

// claim fires e's slot on this node if it takes the slot's lease.
func (s *Scheduler) claim(ctx context.Context, e *entry, now time.Time) {
	defer s.runs.Done()
	defer s.poke()
	// Not running until the lease is given back (deferred below, so it
	// runs first): firing again before that would find it taken.
	defer func() {
		s.mu.Lock()
		e.running = false
		s.mu.Unlock()
	}()
	x, err := s.o.Leases.Acquire(ctx, LeaseName(e.key))
	if err != nil || x == nil {
		if err != nil {
			if ctx.Err() != nil {
				return // shutting down
			}
			s.log.Error("schedule lease not taken; retrying", "schedule", e.key, "err", err)
		}
		st, ok := s.loadState(ctx, e)
		s.mu.Lock()
		defer s.mu.Unlock()
		if ok && st.Next.After(now) {
			e.st, e.dueNow = st, false // fired elsewhere
			return
		}
		e.notBefore = now.Add(claimRetry)
		return
	}
	defer func() {
		if err := x.Release(context.WithoutCancel(ctx)); err != nil {
			s.log.Warn("schedule lease not released; it expires after its TTL", "schedule", e.key, "err", err)
		}
	}()
	st, ok := s.loadState(x.Context(), e)
	s.mu.Lock()
	if ok {
		if st.Next.After(now) && !(e.dueNow && st.LastStart.After(st.LastEnd)) {
			e.st, e.dueNow = st, false
			s.mu.Unlock()
			return
		}
		e.st = st
	}
	at, run := s.start(x.Context(), e, now, x.Token())
	if !run {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.execute(x.Context(), e, at)
}

// loadState reads e's stored state; ok is false when there is none of
// e's spec (a node with another config wrote it) or it cannot be read.
func (s *Scheduler) loadState(ctx context.Context, e *entry) (state, bool) {
	raw, err := s.o.KV.Get(ctx, kvKey(e.key))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("schedule state not read", "schedule", e.key, "err", err)
		}
		return state{}, false
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return state{}, false
	}
	s.mu.Lock()
	spec := e.st.Spec
	s.mu.Unlock()
	return st, st.Spec == spec
}

// saveFenced saves st unless the stored state was written under a newer
// lease token (lease.ErrFenced).
func (s *Scheduler) saveFenced(ctx context.Context, key string, st state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("schedule %s: encode state: %w", key, err)
	}
	err = lease.FencedSet(ctx, s.o.KV, kvKey(key), st.Token, b, func(raw []byte) uint64 {
		var cur state
		_ = json.Unmarshal(raw, &cur)
		return cur.Token
	})
	if err != nil {
		return fmt.Errorf("schedule %s: save state: %w", key, err)
	}
	return nil
}
