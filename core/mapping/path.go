package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/theory/jsonpath"
	"github.com/theory/jsonpath/spec"
)

// Path is a compiled RFC 9535 JSONPath query.
//
// Most paths in workflows are singular: a chain of names and indexes such as
// $.context.traits.email or $.products[0].sku. Those are walked directly over
// the decoded maps and slices, with no allocation; every other query
// (wildcards, slices, filters, descendants) runs through the full RFC 9535
// implementation.
type Path struct {
	expr     string
	query    *jsonpath.Path
	steps    []step
	singular bool
}

// step is one name or index of a singular path.
type step struct {
	name    string
	index   int
	isIndex bool
}

// CompilePath parses a JSONPath expression.
func CompilePath(expr string) (*Path, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, errors.New("empty JSONPath; a path starts with $, e.g. $.properties.revenue")
	}
	if expr[0] != '$' {
		return nil, fmt.Errorf("JSONPath %q must start with $ (the payload root), e.g. $.%s", expr, strings.TrimPrefix(expr, "."))
	}
	q, err := jsonpath.Parse(expr)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "jsonpath: ")
		return nil, fmt.Errorf("JSONPath %q: %s", expr, msg)
	}
	p := &Path{expr: expr, query: q}
	p.steps, p.singular = singularSteps(q.Query())
	return p, nil
}

// singularSteps returns the names and indexes of q when q selects at most
// one node.
func singularSteps(q *spec.PathQuery) ([]step, bool) {
	segs := q.Segments()
	steps := make([]step, 0, len(segs))
	for _, seg := range segs {
		sels := seg.Selectors()
		if seg.IsDescendant() || len(sels) != 1 {
			return nil, false
		}
		switch s := sels[0].(type) {
		case spec.Name:
			steps = append(steps, step{name: string(s)})
		case spec.Index:
			steps = append(steps, step{index: int(s), isIndex: true})
		default:
			return nil, false
		}
	}
	return steps, true
}

// String returns the expression as written.
func (p *Path) String() string { return p.expr }

// Singular reports whether the path can match at most one node.
func (p *Path) Singular() bool { return p.singular }

// Select returns every node the path matches, in document order.
func (p *Path) Select(doc any) []any {
	if p.singular {
		v, found, ok := p.walk(doc)
		if ok {
			if !found {
				return nil
			}
			return []any{v}
		}
	}
	return p.query.Select(doc)
}

// First returns the first node the path matches.
func (p *Path) First(doc any) (any, bool) {
	if p.singular {
		if v, found, ok := p.walk(doc); ok {
			return v, found
		}
	}
	nodes := p.query.Select(doc)
	if len(nodes) == 0 {
		return nil, false
	}
	return nodes[0], true
}

// walk follows a singular path over decoded JSON. ok is false when it meets a
// container type other than map[string]any or []any; the caller then falls
// back to the general implementation, which handles any map or slice.
func (p *Path) walk(doc any) (v any, found, ok bool) {
	cur := doc
	for i := range p.steps {
		s := &p.steps[i]
		switch c := cur.(type) {
		case map[string]any:
			if s.isIndex {
				return nil, false, true
			}
			next, exists := c[s.name]
			if !exists {
				return nil, false, true
			}
			cur = next
		case []any:
			if !s.isIndex {
				return nil, false, true
			}
			idx := s.index
			if idx < 0 {
				idx += len(c)
			}
			if idx < 0 || idx >= len(c) {
				return nil, false, true
			}
			cur = c[idx]
		case nil, string, bool, float64, json.Number:
			return nil, false, true
		default:
			return nil, false, false
		}
	}
	return cur, true, true
}
