package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Workflow turns events into tasks (kind: Workflow).
//
//	spec:
//	  description: text
//	  trigger: {connection: NAME} | {schedule: {...}}
//	  filter: [{path: $.type, op: eq, value: track}, ...]   # all must hold
//	  fields: {NAME: {path: $.x, type: string, required: true, default: ...}}
//	  tasks: [{name, uses, with, retry, timeout, if}, ...]
type Workflow struct {
	Name        string
	Description string
	Trigger     Trigger
	Filter      []Condition
	Fields      map[string]FieldSpec
	Tasks       []Task
	Pos         Pos
	// YAML is the document's source text (before ${VAR} interpolation, so
	// it holds no secrets), for the console.
	YAML []byte
	File string
	// Compiled holds the filter, fields and templates compiled at load time,
	// so the engine never compiles per event.
	Compiled Compiled
}

// Trigger starts a workflow: every event of a connection, or a schedule.
type Trigger struct {
	Connection string
	Schedule   *Schedule
	Pos        Pos
}

// Condition is one filter entry: the value at Path compared with Value by Op.
type Condition struct {
	Path, Op string
	Value    any
	Pos      Pos
}

// FilterOps are the operators a filter condition may use (core/mapping
// implements them).
var FilterOps = []string{"eq", "ne", "in", "exists", "gt", "gte", "lt", "lte", "contains", "matches"}

// FieldSpec extracts one named field from the event: a JSONPath and the type
// it is converted to (string, number, boolean; empty keeps the value as it is
// in the payload). A required field that is missing fails the run; otherwise
// Default (or nothing) is used.
type FieldSpec struct {
	Path     string
	Type     string
	Required bool
	Default  any
	Pos      Pos
}

// FieldTypes are the types a field may declare.
var FieldTypes = []string{"string", "number", "boolean"}

// Task is one step of a workflow. Uses names a builtin task
// (directory.upsert_contact) or <connection>.<action>; With is its input,
// rendered as templates over .event, .fields and .tasks.<name>.output.
type Task struct {
	Name, Uses string
	With       map[string]any
	// Retry is the task's own policy, completed from Settings.Retry; nil
	// means Settings.Retry as is.
	Retry   *RetryPolicy
	Timeout time.Duration
	// If is an optional template condition; the task runs when it renders
	// truthy.
	If  string
	Pos Pos
	// WithPos maps each value's path under with (body.order, items[0]) to
	// its position.
	WithPos map[string]Pos
	// IfPos is where If is written.
	IfPos Pos
	// fromEnv marks the with values written as ${VAR} (see WithFromEnv).
	fromEnv map[string]bool
}

var (
	fieldNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	taskNameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
)

// workflowPos keeps, beside a decoded workflow, what the cross-document
// checks need: where to report, and which parts already failed to decode
// (those are not compiled, so a problem is reported once).
type workflowPos struct {
	triggerConn Pos
	// Per entry of Workflow.Tasks: the message path (spec.tasks[2]) and the
	// positions of uses and retry.
	taskPath    []string
	uses, retry []Pos
	badCond     map[int]bool
	badField    map[string]bool
	badTask     map[int]bool
}

func (d *decoder) workflow(spec *yaml.Node) (*Workflow, *workflowPos) {
	wp := &workflowPos{badCond: map[int]bool{}, badField: map[string]bool{}, badTask: map[int]bool{}}
	o := d.object(spec, "spec", "description", "trigger", "filter", "fields", "tasks")
	if o == nil {
		return nil, nil
	}
	w := &Workflow{Fields: map[string]FieldSpec{}}
	if v := o.get("description"); v != nil {
		w.Description, _ = d.str(v, o.sub("description"))
	}
	if d.require(o, "trigger") {
		w.Trigger = d.trigger(o.get("trigger"), o.sub("trigger"), wp)
	}
	if v := o.get("filter"); v != nil {
		w.Filter = d.filter(v, o.sub("filter"), wp)
	}
	if v := o.get("fields"); v != nil {
		w.Fields = d.fields(v, o.sub("fields"), wp)
	}
	if d.require(o, "tasks") {
		w.Tasks = d.tasks(o.get("tasks"), o.sub("tasks"), wp)
	}
	return w, wp
}

func (d *decoder) trigger(n *yaml.Node, path string, wp *workflowPos) Trigger {
	o := d.object(n, path, "connection", "schedule")
	if o == nil {
		return Trigger{}
	}
	t := Trigger{Pos: d.pos(o.node)}
	conn, sched := o.get("connection"), o.get("schedule")
	switch {
	case conn == nil && sched == nil:
		d.errorf(o.node, path, "want exactly one of connection or schedule, got neither")
	case conn != nil && sched != nil:
		d.errorf(o.keys["schedule"], path, "want exactly one of connection or schedule, got both")
	}
	if conn != nil {
		t.Connection, _ = d.str(conn, o.sub("connection"))
		wp.triggerConn = d.pos(deref(conn))
	}
	if sched != nil {
		t.Schedule = d.schedule(sched, o.sub("schedule"))
	}
	return t
}

func (d *decoder) filter(n *yaml.Node, path string, wp *workflowPos) []Condition {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want sequence, got %s", kindName(n))
		return nil
	}
	out := make([]Condition, 0, len(n.Content))
	for i, e := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		errs := len(d.errs)
		o := d.object(e, p, "path", "op", "value")
		if o == nil {
			continue
		}
		c := Condition{Pos: d.pos(o.node)}
		if d.require(o, "path") {
			c.Path, _ = d.str(o.get("path"), o.sub("path"))
		}
		if d.require(o, "op") {
			if op, ok := d.str(o.get("op"), o.sub("op")); ok {
				if !contains(FilterOps, op) {
					d.errorf(deref(o.get("op")), o.sub("op"), "unknown operator %q%s; want one of %s", op, didYouMean(op, FilterOps), strings.Join(FilterOps, ", "))
				}
				c.Op = op
			}
		}
		if v := o.get("value"); v != nil {
			c.Value = d.value(v, o.sub("value"), "", nil)
		} else if c.Op != "exists" && c.Op != "" {
			d.errorf(o.node, p, "missing required key \"value\" (only exists works without one)")
		}
		wp.badCond[len(out)] = len(d.errs) > errs
		out = append(out, c)
	}
	return out
}

func (d *decoder) fields(n *yaml.Node, path string, wp *workflowPos) map[string]FieldSpec {
	out := map[string]FieldSpec{}
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want mapping, got %s", kindName(n))
		return out
	}
	for _, p := range d.pairs(n, path) {
		fp := joinPath(path, p.key)
		errs := len(d.errs)
		if !fieldNameRE.MatchString(p.key) {
			d.errorf(p.keyNode, path, "field name %q: want letters, digits and _, not starting with a digit (it is used as .fields.%s in templates)", p.key, p.key)
		}
		o := d.object(p.val, fp, "path", "type", "required", "default")
		if o == nil {
			continue
		}
		f := FieldSpec{Pos: d.pos(p.keyNode)}
		if d.require(o, "path") {
			f.Path, _ = d.str(o.get("path"), o.sub("path"))
		}
		if v := o.get("type"); v != nil {
			if t, ok := d.str(v, o.sub("type")); ok {
				if !contains(FieldTypes, t) {
					d.errorf(deref(v), o.sub("type"), "unknown type %q%s; want one of %s", t, didYouMean(t, FieldTypes), strings.Join(FieldTypes, ", "))
				}
				f.Type = t
			}
		}
		if v := o.get("required"); v != nil {
			f.Required, _ = d.boolean(v, o.sub("required"))
		}
		if v := o.get("default"); v != nil {
			f.Default = d.value(v, o.sub("default"), "", nil)
			if f.Required {
				d.errorf(o.keys["default"], o.sub("default"), "a required field cannot have a default")
			}
		}
		wp.badField[p.key] = len(d.errs) > errs
		out[p.key] = f
	}
	return out
}

func (d *decoder) tasks(n *yaml.Node, path string, wp *workflowPos) []Task {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want sequence, got %s", kindName(n))
		return nil
	}
	if len(n.Content) == 0 {
		d.errorf(n, path, "want at least one task")
		return nil
	}
	var out []Task
	seen := map[string]Pos{}
	for i, e := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		errs := len(d.errs)
		o := d.object(e, p, "name", "uses", "with", "retry", "timeout", "if")
		if o == nil {
			continue
		}
		var usesPos, retryPos Pos
		t := Task{Pos: d.pos(o.node), With: map[string]any{}, WithPos: map[string]Pos{}}
		if d.require(o, "name") {
			v := o.get("name")
			if name, ok := d.str(v, o.sub("name")); ok {
				switch first, dup := seen[name]; {
				case name == "":
					d.errorf(deref(v), o.sub("name"), "must not be empty")
				case !taskNameRE.MatchString(name):
					d.errorf(deref(v), o.sub("name"), "%q: want letters, digits, - and _, starting with a letter or digit", name)
				case dup:
					d.errorf(deref(v), o.sub("name"), "duplicate task name %q (first at line %d)", name, first.Line)
				default:
					seen[name] = d.pos(deref(v))
				}
				t.Name = name
			}
		}
		if d.require(o, "uses") {
			t.Uses, _ = d.str(o.get("uses"), o.sub("uses"))
			usesPos = d.pos(deref(o.get("uses")))
		}
		if v := o.get("with"); v != nil {
			if wn := deref(v); wn.Kind != yaml.MappingNode {
				d.errorf(wn, o.sub("with"), "want mapping, got %s", kindName(wn))
			} else {
				t.With = d.value(wn, o.sub("with"), "", t.WithPos).(map[string]any)
				t.fromEnv = d.envSet(wn)
			}
		}
		if v := o.get("retry"); v != nil {
			r := d.retry(v, o.sub("retry"))
			t.Retry = &r
			retryPos = d.pos(deref(v))
		}
		if v := o.get("timeout"); v != nil {
			t.Timeout, _ = d.duration(v, o.sub("timeout"))
		}
		if v := o.get("if"); v != nil {
			t.If, _ = d.str(v, o.sub("if"))
			t.IfPos = d.pos(deref(v))
		}
		wp.badTask[len(out)] = len(d.errs) > errs
		wp.taskPath = append(wp.taskPath, p)
		wp.uses = append(wp.uses, usesPos)
		wp.retry = append(wp.retry, retryPos)
		out = append(out, t)
	}
	return out
}
