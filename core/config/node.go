package config

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/junctionhub/junction/pluginsdk"
)

// decoder walks yaml.Node trees of one file, collecting positioned errors
// instead of stopping at the first, so a user sees every problem at once.
type decoder struct {
	file      string
	keepUnset bool
	errs      []*Error
	// interpolated marks the scalars whose value came from ${VAR}.
	interpolated map[*yaml.Node]bool
	// active holds the alias targets being expanded and merging the mappings
	// being merged, to refuse a value that contains itself; values counts
	// the values expanded, to refuse an alias bomb.
	active, merging map[*yaml.Node]bool
	values          int
}

// maxValues bounds the values one file may expand to through aliases: far
// above any real configuration, far below what exhausts memory.
const maxValues = 200_000

// typed returns the node a bool or int setting reads: a quoted scalar whose
// value came from ${VAR} is resolved as if it were written unquoted.
func (d *decoder) typed(n *yaml.Node) *yaml.Node {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 || !d.interpolated[n] {
		return n
	}
	c := *n
	c.Style, c.Tag = 0, ""
	c.Tag = c.ShortTag()
	return &c
}

func (d *decoder) pos(n *yaml.Node) Pos { return Pos{File: d.file, Line: n.Line, Col: n.Column} }

// errorf records a problem at n. A non-empty path (spec.auth.type) prefixes the
// message, so the line says which setting is wrong as well as where.
func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	d.errs = append(d.errs, &Error{Pos: d.pos(n), Msg: msg})
}

// deref follows aliases (*anchor) to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// kindName names what a node holds, for "want X, got Y" messages.
func kindName(n *yaml.Node) string {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "bool"
		case "!!int":
			return "int"
		case "!!float":
			return "float"
		case "!!timestamp":
			return "timestamp"
		default:
			return "string"
		}
	}
	return "nothing"
}

// pair is one key and its value in a mapping, in source order.
type pair struct {
	key     string
	keyNode *yaml.Node
	val     *yaml.Node
}

// pairs lists a mapping's entries in source order. It reports duplicate and
// non-scalar keys, and expands merge keys (<<: *base), explicit keys winning.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	if d.merging[n] {
		d.errorf(n, path, "merge (<<) refers to a mapping that contains it")
		return nil
	}
	var out []pair
	seen := map[string]*yaml.Node{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if deref(k).Kind != yaml.ScalarNode {
			d.errorf(k, path, "mapping key: want string, got %s", kindName(k))
			continue
		}
		key := deref(k).Value
		if first, dup := seen[key]; dup {
			d.errorf(k, path, "duplicate key %q (first at line %d)", key, first.Line)
			continue
		}
		seen[key] = k
		out = append(out, pair{key: key, keyNode: k, val: v})
	}
	if len(merges) > 0 {
		if d.merging == nil {
			d.merging = map[*yaml.Node]bool{}
		}
		d.merging[n] = true
		defer delete(d.merging, n)
	}
	for _, m := range merges {
		m = deref(m)
		var sources []*yaml.Node
		switch m.Kind {
		case yaml.MappingNode:
			sources = []*yaml.Node{m}
		case yaml.SequenceNode:
			sources = m.Content
		}
		for _, src := range sources {
			src = deref(src)
			if src.Kind != yaml.MappingNode {
				d.errorf(src, path, "merge (<<): want mapping, got %s", kindName(src))
				continue
			}
			for _, p := range d.pairs(src, path) {
				if _, ok := seen[p.key]; !ok {
					seen[p.key] = p.keyNode
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// object is a mapping whose keys were checked against a fixed set.
type object struct {
	node *yaml.Node
	path string
	keys map[string]*yaml.Node
	vals map[string]*yaml.Node
}

// object checks that n is a mapping holding only the allowed keys. It returns
// nil (after recording the error) when n is not a mapping.
func (d *decoder) object(n *yaml.Node, path string, allowed ...string) *object {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want mapping, got %s", kindName(n))
		return nil
	}
	o := &object{node: n, path: path, keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}}
	for _, p := range d.pairs(n, path) {
		if !contains(allowed, p.key) {
			sorted := append([]string(nil), allowed...)
			sort.Strings(sorted)
			d.errorf(p.keyNode, path, "unknown key %q%s; allowed: %s", p.key, didYouMean(p.key, allowed), strings.Join(sorted, ", "))
			continue
		}
		o.keys[p.key] = p.keyNode
		o.vals[p.key] = p.val
	}
	return o
}

// get returns the value under key, or nil when absent.
func (o *object) get(key string) *yaml.Node { return o.vals[key] }

// sub is the message path of key.
func (o *object) sub(key string) string { return joinPath(o.path, key) }

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// require records an error at the mapping when key is absent, and reports
// whether it is present.
func (d *decoder) require(o *object, key string) bool {
	if _, ok := o.vals[key]; ok {
		return true
	}
	d.errorf(o.node, o.path, "missing required key %q", key)
	return false
}

// str reads a scalar as text. Numbers and booleans are accepted as written
// (version: 1.0 is "1.0"); null, mappings and sequences are not.
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.errorf(n, path, "want string, got %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	n = d.typed(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		d.errorf(n, path, "want bool, got %s", kindName(n))
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		d.errorf(n, path, "want bool: %v", err)
		return false, false
	}
	return b, true
}

func (d *decoder) integer(n *yaml.Node, path string) (int64, bool) {
	n = d.typed(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.errorf(n, path, "want int, got %s", kindName(n))
		return 0, false
	}
	var i int64
	if err := n.Decode(&i); err != nil {
		d.errorf(n, path, "want int: %q is out of range", n.Value)
		return 0, false
	}
	return i, true
}

// positiveInt reads an int of at least 1.
func (d *decoder) positiveInt(n *yaml.Node, path string) (int, bool) {
	i, ok := d.integer(n, path)
	if !ok {
		return 0, false
	}
	if i < 1 || i > math.MaxInt32 {
		d.errorf(deref(n), path, "want a number from 1 to %d, got %d", math.MaxInt32, i)
		return 0, false
	}
	return int(i), true
}

// duration reads a positive duration.
func (d *decoder) duration(n *yaml.Node, path string) (time.Duration, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.errorf(n, path, "want duration (such as 30s, 5m, 24h), got %s", kindName(n))
		return 0, false
	}
	// Days allowed ("7d"): dedup windows and schedules are often in days,
	// and a connector's config reads durations the same way.
	v, err := pluginsdk.ParseDuration(n.Value)
	if err != nil {
		d.errorf(n, path, "want duration (such as 30s, 5m, 24h), got %q", n.Value)
		return 0, false
	}
	if v <= 0 {
		d.errorf(n, path, "want a positive duration, got %q", n.Value)
		return 0, false
	}
	return v, true
}

// strList reads a sequence of strings.
func (d *decoder) strList(n *yaml.Node, path string) ([]string, bool) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want sequence, got %s", kindName(n))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for i, e := range n.Content {
		s, good := d.str(e, fmt.Sprintf("%s[%d]", path, i))
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// value converts free-form YAML (a connector's config, a task's with, a filter
// value) to plain Go values: map[string]any, []any, string, int, float64, bool
// and nil. Dates stay strings. When at is non-nil it receives the position of
// every value under its leaf path (body.order, items[0]) relative to leaf.
func (d *decoder) value(n *yaml.Node, path, leaf string, at map[string]Pos) any {
	if d.values++; d.values == maxValues+1 {
		d.errorf(n, path, "the file expands to more than %d values through aliases", maxValues)
	}
	if d.values > maxValues {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		target := deref(n)
		if d.active[target] {
			d.errorf(n, path, "alias *%s refers to a value that contains it", n.Value)
			return nil
		}
		if d.active == nil {
			d.active = map[*yaml.Node]bool{}
		}
		d.active[target] = true
		defer delete(d.active, target)
		n = target
	}
	if at != nil && leaf != "" {
		at[leaf] = d.pos(n)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for _, p := range d.pairs(n, path) {
			m[p.key] = d.value(p.val, joinPath(path, p.key), joinPath(leaf, p.key), at)
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, e := range n.Content {
			s[i] = d.value(e, fmt.Sprintf("%s[%d]", path, i), fmt.Sprintf("%s[%d]", leaf, i), at)
		}
		return s
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool", "!!int", "!!float":
			var v any
			if err := n.Decode(&v); err != nil {
				d.errorf(n, path, "%v", err)
				return nil
			}
			return v
		default:
			return n.Value
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
