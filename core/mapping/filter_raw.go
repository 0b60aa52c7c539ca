package mapping

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/junctionhub/junction/pluginsdk/fields"
)

// rawFilter evaluates a filter on the raw payload: one pass of the fields
// scanner finds the span of every condition's path, and only those spans are
// decoded. Most events a dispatcher sees fail some workflow's filter (a
// workflow takes "Order Completed" out of every track event of a source), and
// for them decoding the whole payload was the largest cost and half the
// allocations of the hub's ingest path (issue 12). It exists only when every
// condition's path is a chain of names and non-negative indexes, the paths
// the scanner supports.
type rawFilter struct {
	// paths holds the conditions' paths, in order, then their ancestors.
	paths *fields.Paths
	// ancestors[i] are the indexes in paths of condition i's proper
	// prefixes ($.a and $.a.b for $.a.b.c). The scanner keeps the last of
	// duplicate keys at every level, but a child found under an earlier
	// duplicate of its parent would survive; the decoder keeps only the
	// last parent's children. A span outside its ancestors' spans reveals
	// that case, and MatchJSON leaves it to the decoder.
	ancestors [][]int
	// spans holds one []fields.Span of paths.Len() per concurrent caller.
	spans sync.Pool
}

func newRawFilter(conds []condition) *rawFilter {
	srcs := make([]string, len(conds))
	var prefixes [][]string
	for i := range conds {
		pre, ok := scannerPath(conds[i].path)
		if !ok {
			return nil
		}
		srcs[i] = pre[len(pre)-1]
		prefixes = append(prefixes, pre[:len(pre)-1])
	}
	rf := &rawFilter{ancestors: make([][]int, len(conds))}
	index := map[string]int{}
	for i, pre := range prefixes {
		if len(pre) > 0 {
			pre = pre[1:] // "$", the whole document, holds everything
		}
		for _, a := range pre {
			j, seen := index[a]
			if !seen {
				j = len(srcs)
				srcs = append(srcs, a)
				index[a] = j
			}
			rf.ancestors[i] = append(rf.ancestors[i], j)
		}
	}
	p, err := fields.Compile(srcs...)
	if err != nil {
		return nil
	}
	n := len(srcs)
	rf.paths = p
	rf.spans.New = func() any { s := make([]fields.Span, n); return &s }
	return rf
}

// scannerPath writes a singular path in the fields scanner's syntax, with
// each of its prefixes: "$", "$['a']", "$['a']['b']" for $.a.b.
func scannerPath(p *Path) ([]string, bool) {
	if !p.singular {
		return nil, false
	}
	out := make([]string, 0, len(p.steps)+1)
	var b strings.Builder
	b.WriteByte('$')
	out = append(out, b.String())
	for _, s := range p.steps {
		if s.isIndex {
			if s.index < 0 { // from the end: the scanner counts from the start only
				return nil, false
			}
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		} else {
			// A bracketed, quoted name holds any key, but the scanner
			// reads it up to the next quote and stops a bracket at the
			// first ']': such keys are left to the decoder.
			if strings.ContainsAny(s.name, "'\"]") {
				return nil, false
			}
			b.WriteString("['" + s.name + "']")
		}
		out = append(out, b.String())
	}
	return out, true
}

// MatchJSON reports whether every condition holds for a JSON payload, without
// decoding more of it than the conditions' values. ok is false when it cannot
// tell (a path the scanner does not support, invalid JSON or invalid UTF-8,
// which the decoder treats in its own way); the caller then decodes the
// payload and calls Match, which gives the same verdict wherever MatchJSON
// gives one (a differential fuzz test keeps them so).
func (f *Filter) MatchJSON(payload []byte) (match, ok bool) {
	rf := f.raw
	if rf == nil || !utf8.Valid(payload) {
		return false, false
	}
	sp := rf.spans.Get().(*[]fields.Span)
	defer rf.spans.Put(sp)
	spans := *sp
	if err := rf.paths.Spans(payload, spans); err != nil {
		return false, false
	}
	for i := range f.conds {
		c := &f.conds[i]
		var v any
		found := spans[i].Start >= 0
		if found {
			for _, a := range rf.ancestors[i] {
				if spans[a].Start > spans[i].Start || spans[i].End > spans[a].End {
					return false, false // under a duplicate key the decoder drops
				}
			}
			var err error
			if v, err = Decode(payload[spans[i].Start:spans[i].End]); err != nil {
				return false, false
			}
		}
		var holds bool
		if c.exists {
			holds = (found && v != nil) == c.want
		} else {
			holds = (found && c.test(v)) != c.none
		}
		if !holds {
			return false, true
		}
	}
	return true, true
}
