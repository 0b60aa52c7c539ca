package workflow

import (
	"errors"
	"fmt"
	"slices"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
)

// Replace installs version of the workflow definitions (hot reload). It
// applies to the events logged from now on: events already in the log are
// dispatched with the definitions they were accepted under, and a new
// workflow starts at the log's current end, replaying no history. Runs
// already created finish on the version they started with.
//
// The caller makes sure that a connection removed by the same reload
// receives nothing more before calling Replace (its last events must fall
// before the switch), and that the tasks' connections exist before the
// first run can reach them. res resolves this version's tasks (its builtin
// tasks are built with this version's configuration).
func (e *Engine) Replace(version uint64, wfs []*config.Workflow, res Resolver) error {
	if res == nil {
		return errors.New("workflow: Replace needs a resolver")
	}
	if version <= e.defs.curVersion.Load() {
		return fmt.Errorf("workflow: config version %d is not newer than the current %d", version, e.defs.curVersion.Load())
	}
	// The log's last sequence is that of the last synced event: appends
	// in flight get later ones, and so the new definitions.
	from := e.opts.Store.Log().LastSeq() + 1
	e.defs.replace(newDefs(version, wfs, res), from)
	e.log.Info("workflows replaced", "config_version", version, "workflows", len(wfs), "from_seq", from)
	return nil
}

// ConfigVersion is the version of the current definitions.
func (e *Engine) ConfigVersion() uint64 { return e.defs.curVersion.Load() }

// HeldVersions lists the versions of the definitions this process holds:
// the current one, and older ones that runs or undispatched events still
// need.
func (e *Engine) HeldVersions() []uint64 {
	v := e.defs.held()
	slices.Sort(v)
	return v
}

// definitionOf is the definition run r executes on: that of the version it
// was created from, while held. Otherwise (the hub restarted since, or the
// run predates versions) the current one, if its tasks are the ones the run
// was created with. nil comes with the reason.
func (e *Engine) definitionOf(r *store.Run) (*compiled, string) {
	if c, ok := e.defs.lookup(r.ConfigVersion, r.Workflow); ok {
		return c, ""
	}
	cur := e.defs.current()
	c, ok := cur.byName[r.Workflow]
	if !ok {
		return nil, fmt.Sprintf("workflow %s is no longer configured", r.Workflow)
	}
	if !sameTasks(r, c.wf) {
		return nil, fmt.Sprintf("workflow %s changed since this run was created (config version %d; now %d) and that version is no longer held: replay the run to run it on the current version",
			r.Workflow, r.ConfigVersion, cur.version)
	}
	return c, ""
}

// sameTasks reports whether r's task list is wf's: a run resumes by task
// index, so another list would run the wrong tasks.
func sameTasks(r *store.Run, wf *config.Workflow) bool {
	if len(r.Tasks) != len(wf.Tasks) {
		return false
	}
	for i, t := range wf.Tasks {
		if r.Tasks[i].Name != t.Name || r.Tasks[i].Uses != t.Uses {
			return false
		}
	}
	return true
}
