package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/junctionhub/junction/core/mapping"
)

// Compiled is a workflow's filter, fields and templates, compiled once at load
// time. Nil members mean nothing to compile (no filter, no fields, no with).
type Compiled struct {
	Filter *mapping.Filter
	Fields *mapping.Fields
	// With is each task's compiled input, by task name.
	With map[string]*mapping.Value
	// If is each task's compiled condition, by task name, for tasks that
	// have one.
	If map[string]*mapping.Value
}

// finish runs the checks that need every document: defaults from Settings,
// cross-references between kinds, and compiling workflows.
func (l *loader) finish() {
	if l.settingsPos == nil {
		l.b.Settings = DefaultSettings()
	}
	for _, c := range l.b.Connections {
		if c.Schedule != nil && c.Schedule.Timezone == "" {
			c.Schedule.Timezone = l.b.Settings.Timezone
		}
		l.checkInbound(c)
		if l.check != nil && connectorRE.MatchString(c.Connector) && !l.check.ConnectorKnown(c.Connector) {
			l.errorAt(l.pos.connector[c], "spec.connector: unknown connector %q: not a builtin and no installed plugin has that name%s", c.Connector, l.searched(c.Connector))
		}
		l.checkInboundAuth(c)
		l.checkCORS(c)
		l.checkNetwork(c)
	}
	for _, w := range l.b.Workflows {
		l.checkWorkflow(w)
	}
	for _, a := range l.b.Alerts {
		l.checkAlert(a)
	}
}

func (l *loader) checkWorkflow(w *Workflow) {
	wp := l.pos.workflow[w]
	if t := w.Trigger; t.Connection != "" {
		if l.b.Connection(t.Connection) == nil {
			l.errorAt(wp.triggerConn, "spec.trigger.connection: no Connection named %q%s", t.Connection, didYouMean(t.Connection, l.connectionNames()))
		}
		if len(w.Filter) == 0 {
			l.warnings = append(l.warnings, &Warning{Pos: wp.triggerConn, Msg: fmt.Sprintf(
				"workflow %s: no filter: every event of %s starts this workflow; at least one filter is recommended", w.Name, t.Connection)})
		}
	}
	if s := w.Trigger.Schedule; s != nil && s.Timezone == "" {
		s.Timezone = l.b.Settings.Timezone
	}
	for i := range w.Tasks {
		t := &w.Tasks[i]
		if t.Retry != nil {
			r := t.Retry.fill(l.b.Settings.Retry)
			t.Retry = &r
			if r.InitialInterval > r.MaxInterval {
				l.errorAt(wp.retry[i], "%s.retry: initial_interval %s is longer than max_interval %s", wp.taskPath[i], r.InitialInterval, r.MaxInterval)
			}
		}
		if t.Uses != "" {
			l.checkUses(t.Uses, wp.uses[i], wp.taskPath[i]+".uses")
		}
	}
	l.compileFilter(w, wp)
	l.compileFields(w, wp)
	l.compileTasks(w, wp)
}

func (l *loader) connectionNames() []string {
	names := make([]string, len(l.b.Connections))
	for i, c := range l.b.Connections {
		names[i] = c.Name
	}
	return names
}

// checkUses resolves `uses:`: a builtin task, or <connection>.<action> of a
// defined connection. Connection names cannot contain dots, so the part before
// the first dot is the connection.
func (l *loader) checkUses(uses string, at Pos, path string) {
	prefix, action, hasDot := strings.Cut(uses, ".")
	conn := l.b.Connection(prefix)
	builtin := l.check != nil && l.check.TaskKnown(uses)
	switch {
	case !hasDot || prefix == "" || action == "":
		l.errorAt(at, "%s: want a builtin task (such as directory.upsert_contact) or <connection>.<action>, got %q", path, uses)
	case conn != nil && builtin:
		l.errorAt(at, "%s: %q is both a builtin task and an action of connection %q; rename the connection", path, uses, prefix)
	case conn != nil:
		if l.check == nil || conn.Connector == "" {
			return
		}
		if known, checkable := l.check.ActionKnown(conn.Connector, action); checkable && !known {
			l.errorAt(at, "%s: connector %s of connection %q has no action %q", path, conn.Connector, prefix, action)
		}
	case l.check != nil && !builtin:
		l.errorAt(at, "%s: %q is not a builtin task, and there is no Connection named %q%s", path, uses, prefix, didYouMean(prefix, l.connectionNames()))
	}
}

// compileFilter compiles each condition that decoded cleanly on its own, so
// every bad condition is reported, then the whole list for the engine.
func (l *loader) compileFilter(w *Workflow, wp *workflowPos) {
	if len(w.Filter) == 0 {
		return
	}
	conds := make([]mapping.Condition, len(w.Filter))
	good := true
	for i, c := range w.Filter {
		conds[i] = mapping.Condition{Path: c.Path, Op: c.Op, Value: c.Value}
		if wp.badCond[i] {
			good = false
			continue
		}
		if _, err := mapping.CompileFilter(conds[i : i+1]); err != nil {
			good = false
			l.errorAt(c.Pos, "spec.filter[%d]: %v", i, unwrapAs[*mapping.ConditionError](err))
		}
	}
	if !good {
		return
	}
	f, err := mapping.CompileFilter(conds)
	if err != nil {
		l.errorAt(w.Pos, "spec.filter: %v", err)
		return
	}
	w.Compiled.Filter = f
}

// compileFields compiles each field on its own for the same reason.
func (l *loader) compileFields(w *Workflow, wp *workflowPos) {
	if len(w.Fields) == 0 {
		return
	}
	specs := make(map[string]mapping.FieldSpec, len(w.Fields))
	good := true
	for name, f := range w.Fields {
		spec := mapping.FieldSpec{Path: f.Path, Type: mapping.Type(f.Type), Required: f.Required, Default: f.Default}
		specs[name] = spec
		if wp.badField[name] {
			good = false
			continue
		}
		if _, err := mapping.CompileFields(map[string]mapping.FieldSpec{name: spec}); err != nil {
			good = false
			l.errorAt(f.Pos, "spec.fields.%s: %v", name, unwrapAs[*mapping.FieldError](err))
		}
	}
	if !good {
		return
	}
	fs, err := mapping.CompileFields(specs)
	if err != nil {
		l.errorAt(w.Pos, "spec.fields: %v", err)
		return
	}
	w.Compiled.Fields = fs
}

// unwrapAs strips a mapping wrapper error whose text repeats what the
// message's path already says (filter[0], field amount).
func unwrapAs[T error](err error) error {
	var t T
	if errors.As(err, &t) {
		if inner := errors.Unwrap(t); inner != nil {
			return inner
		}
	}
	return err
}
