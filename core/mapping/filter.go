package mapping

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Condition is one entry of a workflow's `filter:` list.
type Condition struct {
	Path  string
	Op    string
	Value any
}

// ConditionError is a condition that failed to compile; Index is its
// position in the list, from 0.
type ConditionError struct {
	Index int
	Err   error
}

func (e *ConditionError) Error() string { return fmt.Sprintf("filter[%d]: %v", e.Index, e.Err) }

func (e *ConditionError) Unwrap() error { return e.Err }

// ops lists the filter operators, in the order the docs present them.
var ops = []string{"eq", "ne", "in", "exists", "gt", "gte", "lt", "lte", "contains", "matches"}

// Filter is a compiled `filter:` list: every condition must hold. It is safe
// for concurrent use.
type Filter struct {
	conds []condition
	// raw, when set, evaluates the filter on an undecoded payload
	// (filter_raw.go).
	raw *rawFilter
}

type condition struct {
	path *Path
	// test reports whether one matched node satisfies the condition.
	test func(node any) bool
	// none inverts the quantifier: the condition holds when no node passes
	// test (ne is "no node equals the value").
	none bool
	// exists is set for the exists op, whose test is about the nodes
	// themselves; want is the value it must report.
	exists bool
	want   bool
}

// CompileFilter compiles the conditions once; Match only walks the payload.
func CompileFilter(conds []Condition) (*Filter, error) {
	f := &Filter{conds: make([]condition, 0, len(conds))}
	for i, c := range conds {
		cc, err := compileCondition(c)
		if err != nil {
			return nil, &ConditionError{Index: i, Err: err}
		}
		f.conds = append(f.conds, cc)
	}
	f.raw = newRawFilter(f.conds)
	return f, nil
}

func compileCondition(c Condition) (condition, error) {
	if c.Path == "" {
		return condition{}, errors.New("path is required, e.g. {path: $.type, op: eq, value: track}")
	}
	p, err := CompilePath(c.Path)
	if err != nil {
		return condition{}, err
	}
	cc := condition{path: p}
	switch c.Op {
	case "eq", "ne":
		w, err := newEqValue(c.Value)
		if err != nil {
			return condition{}, fmt.Errorf("op %s: %w", c.Op, err)
		}
		cc.test = w.equal
		cc.none = c.Op == "ne"
	case "in":
		ws, err := newEqList(c.Value)
		if err != nil {
			return condition{}, err
		}
		cc.test = func(node any) bool {
			for i := range ws {
				if ws[i].equal(node) {
					return true
				}
			}
			return false
		}
	case "exists":
		cc.exists, cc.want = true, true
		switch v := c.Value.(type) {
		case nil:
		case bool:
			cc.want = v
		default:
			return condition{}, fmt.Errorf("op exists takes true or false, not %s", describe(v))
		}
	case "gt", "gte", "lt", "lte":
		cc.test, err = newOrder(c.Op, c.Value)
		if err != nil {
			return condition{}, err
		}
	case "contains":
		cc.test, err = newContains(c.Value)
		if err != nil {
			return condition{}, err
		}
	case "matches":
		pattern, ok := c.Value.(string)
		if !ok {
			return condition{}, fmt.Errorf("op matches takes a regular expression string, not %s", describe(c.Value))
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			return condition{}, fmt.Errorf("op matches: %w", err)
		}
		cc.test = func(node any) bool {
			s, ok := scalarText(node)
			return ok && re.MatchString(s)
		}
	case "":
		return condition{}, fmt.Errorf("op is required; use one of %s", strings.Join(ops, ", "))
	default:
		return condition{}, fmt.Errorf("unknown op %q; use one of %s", c.Op, strings.Join(ops, ", "))
	}
	return cc, nil
}

// Match reports whether every condition holds for a decoded payload.
func (f *Filter) Match(doc any) bool {
	for i := range f.conds {
		if !f.conds[i].holds(doc) {
			return false
		}
	}
	return true
}

func (c *condition) holds(doc any) bool {
	if c.path.singular {
		if v, found, ok := c.path.walk(doc); ok {
			if c.exists {
				return (found && v != nil) == c.want
			}
			return (found && c.test(v)) != c.none
		}
	}
	nodes := c.path.query.Select(doc)
	if c.exists {
		for _, v := range nodes {
			if v != nil {
				return c.want
			}
		}
		return !c.want
	}
	for _, v := range nodes {
		if c.test(v) {
			return !c.none
		}
	}
	return c.none
}

func newEqList(v any) ([]eqValue, error) {
	var items []any
	switch l := v.(type) {
	case []any:
		items = l
	case []string:
		for _, s := range l {
			items = append(items, s)
		}
	default:
		return nil, fmt.Errorf("op in takes a list of values, e.g. [track, page], not %s", describe(v))
	}
	ws := make([]eqValue, 0, len(items))
	for i, it := range items {
		w, err := newEqValue(it)
		if err != nil {
			return nil, fmt.Errorf("op in: value[%d]: %w", i, err)
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// newOrder compiles gt, gte, lt and lte. The value decides the comparison:
// a number compares numbers (and numeric strings), a time compares RFC 3339
// timestamps.
func newOrder(op string, v any) (func(any) bool, error) {
	cmpOK := func(c int) bool {
		switch op {
		case "gt":
			return c > 0
		case "gte":
			return c >= 0
		case "lt":
			return c < 0
		}
		return c <= 0
	}
	if want, ok := numberOrNumericString(v); ok {
		return func(node any) bool {
			n, ok := numberOrNumericString(node)
			return ok && cmpOK(compareFloat(n, want))
		}, nil
	}
	if want, ok := timeValue(v); ok {
		return func(node any) bool {
			t, ok := timeValue(node)
			return ok && cmpOK(t.Compare(want))
		}, nil
	}
	return nil, fmt.Errorf("op %s needs a number or an RFC 3339 time (2024-05-01T00:00:00Z), not %s", op, describe(v))
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// newContains compiles contains: a substring of a string node, or an element
// (compared like eq) of an array node.
func newContains(v any) (func(any) bool, error) {
	sub, ok := scalarText(v)
	if !ok || v == nil {
		return nil, fmt.Errorf("op contains takes a string, number or boolean, not %s", describe(v))
	}
	w, err := newEqValue(v)
	if err != nil {
		return nil, fmt.Errorf("op contains: %w", err)
	}
	return func(node any) bool {
		switch n := node.(type) {
		case string:
			return strings.Contains(n, sub)
		case []any:
			for _, e := range n {
				if w.equal(e) {
					return true
				}
			}
		}
		return false
	}, nil
}

// scalarText is the text of a string, number or boolean node.
func scalarText(v any) (string, bool) {
	switch v.(type) {
	case map[string]any, []any, nil:
		return "", false
	case string, bool, time.Time:
		return toString(v), true
	}
	if _, ok := numberValue(v); ok {
		return toString(v), true
	}
	return "", false
}

// timeLayouts are the timestamp forms gt/gte/lt/lte understand.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"}

func timeValue(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case string:
		// Cheap rejection: a timestamp starts with a four-digit year.
		if len(t) < 10 || t[4] != '-' {
			return time.Time{}, false
		}
		for _, layout := range timeLayouts {
			if parsed, err := time.Parse(layout, t); err == nil {
				return parsed, true
			}
		}
	}
	return time.Time{}, false
}
