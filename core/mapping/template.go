package mapping

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

// TemplateError is a template that failed to compile or to render. Path
// locates the string leaf inside the `with:` value, e.g. "body.order" or
// "items[2]"; it is empty when the value itself is the string.
type TemplateError struct {
	Path string
	Err  error
}

func (e *TemplateError) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

func (e *TemplateError) Unwrap() error { return e.Err }

// Value is a compiled `with:` value: a YAML tree whose string leaves are
// templates. It is safe for concurrent use.
type Value struct {
	root renderer
	refs []Ref
}

// renderer is one compiled node of the tree.
type renderer interface {
	render(data map[string]any) (any, error)
}

// CompileValue compiles every string leaf of v once. The error is a
// *TemplateError naming the leaf.
func CompileValue(v any) (*Value, error) {
	c := &valueCompiler{}
	root, err := c.compile(v, "")
	if err != nil {
		return nil, err
	}
	return &Value{root: root, refs: c.refs}, nil
}

// Render renders the tree over data. A leaf that is a single reference such
// as {{ .fields.amount }} keeps the referenced value's type; other template
// leaves render to strings; non-string leaves are returned unchanged. Values
// taken by reference are shared with data, not copied: treat the result as
// read-only.
func (v *Value) Render(data map[string]any) (any, error) {
	return v.root.render(data)
}

// References lists the references to data (.fields.X, .tasks.Y, .event...,
// and any other root) in every leaf, so that configuration can report the
// ones that point nowhere.
func (v *Value) References() []Ref { return append([]Ref(nil), v.refs...) }

// Ref is one reference from a template into the render data.
type Ref struct {
	// Root is the first key: "fields", "tasks", "event", or another root the
	// caller provides (e.g. "run").
	Root string
	// Name is the key after Root ("amount" in .fields.amount, the task name
	// in .tasks.save.output), or "" for a bare root.
	Name string
	// Leaf locates the template inside the `with:` value, like
	// TemplateError.Path.
	Leaf string
	// Text is the reference as a chain, e.g. ".tasks.save.output.id".
	Text string
}

type valueCompiler struct {
	refs []Ref
	seen map[Ref]bool
}

func (c *valueCompiler) compile(v any, path string) (renderer, error) {
	switch t := v.(type) {
	case string:
		return c.compileLeaf(t, path)
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m := &mapRenderer{keys: keys, vals: make([]renderer, len(keys))}
		for i, k := range keys {
			r, err := c.compile(t[k], joinPath(path, k))
			if err != nil {
				return nil, err
			}
			m.vals[i] = r
		}
		return m, nil
	case []any:
		l := &listRenderer{items: make([]renderer, len(t))}
		for i, e := range t {
			r, err := c.compile(e, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			l.items[i] = r
		}
		return l, nil
	}
	if generic, ok := genericContainer(v); ok {
		return c.compile(generic, path)
	}
	return literal{v}, nil
}

// genericContainer turns maps with string keys and slices of other types
// (map[string]string headers, []string lists built in Go) into the
// map[string]any and []any that compile walks, so their strings are
// templates too.
func genericContainer(v any) (any, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, false
		}
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			m[it.Key().String()] = it.Value().Interface()
		}
		return m, true
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return nil, false // bytes are a value, not a list
		}
		l := make([]any, rv.Len())
		for i := range l {
			l[i] = rv.Index(i).Interface()
		}
		return l, true
	}
	return nil, false
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// leafName names every leaf template: errors are reported with the leaf path
// by TemplateError, so the template's own name is stripped from them.
const leafName = "leaf"

func (c *valueCompiler) compileLeaf(s, path string) (renderer, error) {
	if !strings.Contains(s, "{{") {
		return literal{s}, nil
	}
	t, err := template.New(leafName).Funcs(templateFuncs).Parse(s)
	if err != nil {
		return nil, &TemplateError{Path: path, Err: cleanTemplateError(err, s)}
	}
	for _, r := range references(t, path) {
		if c.seen == nil {
			c.seen = map[Ref]bool{}
		}
		if !c.seen[r] {
			c.seen[r] = true
			c.refs = append(c.refs, r)
		}
	}
	if chain, ok := singleReference(t); ok {
		return refRenderer{chain: chain, path: path}, nil
	}
	if parts, ok := textAndReferences(t); ok {
		return &textRenderer{parts: parts, path: path}, nil
	}
	rewrite(t)
	return &templateRenderer{t: t, path: path, src: s}, nil
}

type literal struct{ v any }

func (l literal) render(map[string]any) (any, error) { return l.v, nil }

type mapRenderer struct {
	keys []string
	vals []renderer
}

func (m *mapRenderer) render(data map[string]any) (any, error) {
	out := make(map[string]any, len(m.keys))
	for i, k := range m.keys {
		v, err := m.vals[i].render(data)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

type listRenderer struct{ items []renderer }

func (l *listRenderer) render(data map[string]any) (any, error) {
	out := make([]any, len(l.items))
	for i, r := range l.items {
		v, err := r.render(data)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// refRenderer is a leaf like "{{ .fields.amount }}": it looks the value up
// directly, keeping its type, without running the template engine.
type refRenderer struct {
	chain []string
	path  string
}

func (r refRenderer) render(data map[string]any) (any, error) {
	if len(r.chain) == 0 {
		return nil, nil
	}
	v, err := get(data[r.chain[0]], r.chain[1:]...)
	if err != nil {
		return nil, &TemplateError{Path: r.path, Err: err}
	}
	return v, nil
}

// textRenderer is a leaf of text and single references, such as
// "Order {{ .fields.order }}": it renders like the template engine would
// after rewrite, at a fraction of the cost.
type textRenderer struct {
	parts []textPart
	path  string
}

func (r *textRenderer) render(data map[string]any) (any, error) {
	var b strings.Builder
	for _, p := range r.parts {
		if p.chain == nil {
			b.WriteString(p.text)
			continue
		}
		v, err := get(data[p.chain[0]], p.chain[1:]...)
		if err != nil {
			return nil, &TemplateError{Path: r.path, Err: err}
		}
		b.WriteString(toString(v))
	}
	return b.String(), nil
}

type templateRenderer struct {
	t    *template.Template
	path string
	src  string
}

func (r *templateRenderer) render(data map[string]any) (any, error) {
	var b strings.Builder
	if err := r.t.Execute(&b, data); err != nil {
		return nil, &TemplateError{Path: r.path, Err: cleanTemplateError(err, r.src)}
	}
	return b.String(), nil
}

var (
	parseErrRE = regexp.MustCompile(`^template: ` + leafName + `:(\d+): `)
	execErrRE  = regexp.MustCompile(`^template: ` + leafName + `:(\d+):(\d+): executing "` + leafName + `" at `)
)

// cleanTemplateError drops the template name and, for a one-line leaf, the
// line number from text/template's messages: the TemplateError path already
// says where the problem is. When a function failed, its own error is kept
// (with the function's name) rather than text/template's dump of the
// rewritten pipeline.
func cleanTemplateError(err error, src string) error {
	msg := err.Error()
	line := ""
	var rest string
	if m := execErrRE.FindStringSubmatch(msg); m != nil {
		line, rest = m[1], msg[len(m[0]):]
		var ee template.ExecError
		if i := strings.Index(rest, ">: error calling "); errors.As(err, &ee) && i >= 0 {
			name, _, _ := strings.Cut(rest[i+len(">: error calling "):], ":")
			if inner := errors.Unwrap(ee.Err); inner != nil {
				rest = inner.Error()
				if name != getFunc && !strings.HasPrefix(rest, name) {
					rest = name + ": " + rest
				}
			}
		}
	} else if m := parseErrRE.FindStringSubmatch(msg); m != nil {
		line, rest = m[1], msg[len(m[0]):]
	} else {
		return err
	}
	if strings.Contains(src, "\n") {
		return fmt.Errorf("line %s: %s", line, rest)
	}
	return errors.New(rest)
}
