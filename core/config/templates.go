package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/junctionhub/junction/core/mapping"
)

// templateRoots are the names a template may start from: what the engine
// puts in the render data.
var templateRoots = []string{"event", "fields", "tasks", "run"}

// compileTasks compiles each task's with and if, reporting every bad template
// at its own leaf and every reference that points nowhere: a field that is not
// declared, or a task that does not run before this one.
func (l *loader) compileTasks(w *Workflow, wp *workflowPos) {
	order := map[string]int{}
	for i, t := range w.Tasks {
		if _, dup := order[t.Name]; !dup && t.Name != "" {
			order[t.Name] = i
		}
	}
	for i, t := range w.Tasks {
		if wp.badTask[i] {
			continue
		}
		path := wp.taskPath[i]
		at := func(leaf string) Pos { return leafPos(t, leaf) }
		if len(t.With) > 0 && l.compileLeaves(t.With, "", path+".with", at) {
			v, err := mapping.CompileValue(t.With)
			if err != nil {
				l.errorAt(t.Pos, "%s.with: %v", path, err)
			} else {
				l.checkRefs(w, v.References(), i, order, path+".with", at)
				if w.Compiled.With == nil {
					w.Compiled.With = map[string]*mapping.Value{}
				}
				w.Compiled.With[t.Name] = v
			}
		}
		if t.If != "" {
			ifAt := func(string) Pos { return t.IfPos }
			v, err := mapping.CompileValue(t.If)
			if err != nil {
				l.errorAt(t.IfPos, "%s.if: %v", path, unwrapAs[*mapping.TemplateError](err))
				continue
			}
			l.checkRefs(w, v.References(), i, order, path+".if", ifAt)
			if w.Compiled.If == nil {
				w.Compiled.If = map[string]*mapping.Value{}
			}
			w.Compiled.If[t.Name] = v
		}
	}
}

// compileLeaves compiles every string leaf on its own (CompileValue stops at
// the first error) and reports whether all compiled.
func (l *loader) compileLeaves(v any, leaf, path string, at func(string) Pos) bool {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		ok := true
		for _, k := range keys {
			ok = l.compileLeaves(x[k], joinPath(leaf, k), joinPath(path, k), at) && ok
		}
		return ok
	case []any:
		ok := true
		for i, e := range x {
			ok = l.compileLeaves(e, fmt.Sprintf("%s[%d]", leaf, i), fmt.Sprintf("%s[%d]", path, i), at) && ok
		}
		return ok
	case string:
		if _, err := mapping.CompileValue(x); err != nil {
			l.errorAt(at(leaf), "%s: %v", path, unwrapAs[*mapping.TemplateError](err))
			return false
		}
	}
	return true
}

// checkRefs reports references of task i that point nowhere.
func (l *loader) checkRefs(w *Workflow, refs []mapping.Ref, i int, order map[string]int, path string, at func(string) Pos) {
	for _, r := range refs {
		p := joinLeafPath(path, r.Leaf)
		pos := at(r.Leaf)
		switch r.Root {
		case "":
		case "fields":
			if _, ok := w.Fields[r.Name]; r.Name != "" && !ok {
				l.errorAt(pos, "%s: %s: no field %q is declared in spec.fields%s", p, r.Text, r.Name, didYouMean(r.Name, fieldNames(w)))
			}
		case "tasks":
			if r.Name == "" {
				continue
			}
			j, ok := order[r.Name]
			switch {
			case !ok:
				l.errorAt(pos, "%s: %s: no task named %q in this workflow%s", p, r.Text, r.Name, didYouMean(r.Name, taskNames(w)))
			case j == i:
				l.errorAt(pos, "%s: %s: a task cannot read its own output", p, r.Text)
			case j > i:
				l.errorAt(pos, "%s: %s: task %q runs after this one; only earlier tasks' outputs exist", p, r.Text, r.Name)
			}
		case "event", "run":
		default:
			l.errorAt(pos, "%s: %s: unknown reference .%s%s; templates read %s", p, r.Text, r.Root, didYouMean(r.Root, templateRoots), "."+strings.Join(templateRoots, ", ."))
		}
	}
}

// leafPos finds the position of a with leaf, falling back to the nearest
// enclosing value, then the task.
func leafPos(t Task, leaf string) Pos {
	for {
		if p, ok := t.WithPos[leaf]; ok {
			return p
		}
		i := strings.LastIndexAny(leaf, ".[")
		if i < 0 {
			return t.Pos
		}
		leaf = leaf[:i]
	}
}

// joinLeafPath appends a leaf path (body.order, items[0]) to a message path.
func joinLeafPath(path, leaf string) string {
	if leaf == "" || strings.HasPrefix(leaf, "[") {
		return path + leaf
	}
	return path + "." + leaf
}

func fieldNames(w *Workflow) []string {
	names := make([]string, 0, len(w.Fields))
	for n := range w.Fields {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func taskNames(w *Workflow) []string {
	names := make([]string, 0, len(w.Tasks))
	for _, t := range w.Tasks {
		names = append(names, t.Name)
	}
	return names
}
