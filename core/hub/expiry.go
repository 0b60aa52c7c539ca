package hub

import (
	"sync"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
)

// expiry removes what retention says is old while the hub runs. Events are
// expired only up to the dispatcher's cursor (floor), so an event not yet
// turned into runs is never lost; runs carry their own copy of the payload.
type expiry struct {
	b      engine
	policy store.RetentionPolicy

	mu sync.Mutex
	x  sweeper // nil unless running
}

func newExpiry(b engine, r config.Retention, floor func() uint64) *expiry {
	return &expiry{b: b, policy: store.RetentionPolicy{
		Events: r.Events, Runs: r.Runs, DeadLetters: r.DeadLetters, MaxDataBytes: r.MaxDataBytes,
		Floor: floor,
	}}
}

// Start starts sweeping in the background. Run calls it: a hub that was
// only opened removes nothing.
func (e *expiry) Start() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.x == nil {
		e.x = e.b.startExpiry(e.policy)
	}
}

// Close stops sweeping; it must come before the store closes.
func (e *expiry) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.x != nil {
		e.x.Close()
		e.x = nil
	}
	return nil
}

// Last is the outcome of the latest pass; zero before the first and once
// stopped.
func (e *expiry) Last() store.Sweep {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.x == nil {
		return store.Sweep{}
	}
	return e.x.Last()
}
