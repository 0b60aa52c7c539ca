package workflow

import (
	"sync"
	"sync/atomic"

	"github.com/junctionhub/junction/core/config"
)

// Hot reload (Replace) swaps the workflow definitions while runs are in
// flight. Three rules keep every event and run on one coherent set:
//
//   - The dispatcher chooses definitions by log sequence, not by the time
//     it reads an event: a version applies to the events logged after the
//     reload (from the log's end at that moment). Events already logged but
//     not yet dispatched still get the definitions they were accepted
//     under, and a new workflow does not replay history.
//   - A run records the version it was created from and executes on that
//     version's definition, even after later reloads. The engine holds a
//     version while a run of this process still needs it (refs), and drops
//     it after.
//   - After a restart only the loaded version exists: an unfinished run of
//     an older version resumes on the current definition when its tasks
//     are the same, and fails with a clear error otherwise (replay it).

// defs is one version of the workflow definitions.
type defs struct {
	version   uint64
	byName    map[string]*compiled
	byTrigger map[string][]*compiled
}

func newDefs(version uint64, wfs []*config.Workflow, res Resolver) *defs {
	d := &defs{version: version, byName: map[string]*compiled{}, byTrigger: map[string][]*compiled{}}
	for _, wf := range wfs {
		c := &compiled{wf: wf, version: version, res: res}
		d.byName[wf.Name] = c
		if wf.Trigger.Connection != "" {
			d.byTrigger[wf.Trigger.Connection] = append(d.byTrigger[wf.Trigger.Connection], c)
		}
	}
	return d
}

// generation is a version of the definitions as the dispatcher sees it:
// it applies to events from log sequence from on.
type generation struct {
	from uint64
	d    *defs
}

// defsState is the engine's versions of the definitions.
type defsState struct {
	// mu is held for reading while a run is picked a definition and
	// created (so that a version cannot be dropped in between), and for
	// writing by Replace.
	mu  sync.RWMutex
	cur *defs
	// curVersion is cur.version, readable without mu.
	curVersion atomic.Uint64
	gens       []generation // ascending by from; gens[len-1].d == cur
	versions   map[uint64]*defs
	// refs counts the unfinished runs of this process by version; refsMu
	// guards it, since track updates it with mu held only for reading.
	refsMu sync.Mutex
	refs   map[uint64]int
}

func (s *defsState) init(d *defs) {
	s.cur = d
	s.curVersion.Store(d.version)
	s.gens = []generation{{from: 0, d: d}}
	s.versions = map[uint64]*defs{d.version: d}
	s.refs = map[uint64]int{}
}

func (s *defsState) current() *defs {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur
}

// generations is the dispatcher's list, to be read once per batch.
func (s *defsState) generations() []generation {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.gens
}

// forEvent picks the definitions that apply to the event at seq.
func forEvent(gens []generation, seq uint64) *defs {
	for i := len(gens) - 1; i > 0; i-- {
		if seq >= gens[i].from {
			return gens[i].d
		}
	}
	return gens[0].d
}

// lookup returns the definition of workflow in version, when this process
// still holds that version.
func (s *defsState) lookup(version uint64, workflow string) (*compiled, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.versions[version]
	if !ok {
		return nil, false
	}
	c, ok := d.byName[workflow]
	return c, ok
}

// pick returns the current definition of workflow and holds its version
// for a run about to be created: the caller untracks it unless the run is
// queued (then finishing the run does).
func (s *defsState) pick(workflow string) (*compiled, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.cur.byName[workflow]
	if ok {
		s.track(c.version)
	}
	return c, ok
}

// track counts a run that is still to execute on version.
func (s *defsState) track(version uint64) {
	s.refsMu.Lock()
	s.refs[version]++
	s.refsMu.Unlock()
}

// untrack is called when a tracked run finishes. A version that no run
// needs any more, and that is neither current nor still dispatched, is
// dropped; the common case (a run of the current version) takes no lock
// but refsMu.
func (s *defsState) untrack(version uint64) {
	s.refsMu.Lock()
	n := s.refs[version]
	if n > 0 {
		n--
		s.refs[version] = n
	}
	s.refsMu.Unlock()
	if n > 0 || version == s.curVersion.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
}

// replace installs d for the events logged from seq from on.
func (s *defsState) replace(d *defs, from uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = d
	s.curVersion.Store(d.version)
	s.gens = append(s.gens[:len(s.gens):len(s.gens)], generation{from: from, d: d})
	s.versions[d.version] = d
	s.pruneLocked()
}

// dispatched drops the generations the dispatcher has passed: those whose
// successor starts at or before the next event it will read.
func (s *defsState) dispatched(cursor uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := 0
	for i+1 < len(s.gens) && s.gens[i+1].from <= cursor+1 {
		i++
	}
	if i == 0 {
		return
	}
	s.gens = append([]generation(nil), s.gens[i:]...)
	s.pruneLocked()
}

// pruneLocked drops the versions nothing needs; mu is held for writing.
func (s *defsState) pruneLocked() {
	keep := map[uint64]bool{s.cur.version: true}
	for _, g := range s.gens {
		keep[g.d.version] = true
	}
	s.refsMu.Lock()
	defer s.refsMu.Unlock()
	for v := range s.versions {
		if !keep[v] && s.refs[v] == 0 {
			delete(s.versions, v)
			delete(s.refs, v)
		}
	}
}

// held lists the versions this process holds (for tests and the API).
func (s *defsState) held() []uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]uint64, 0, len(s.versions))
	for v := range s.versions {
		out = append(out, v)
	}
	return out
}
