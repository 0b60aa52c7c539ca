// Package fields reads values out of a JSON document by path and appends JSON
// output, without reflection. It is a general JSON scanner: connectors use it,
// and so does the host where it must not decode a whole payload (the event
// log, the webhook connector, the Wasm host serving the calls below).
//
// It is fast under Wasm as well: a Go guest runs encoding/json 10–18× slower
// than native code, so when a connector is built for GOOS=wasip1,
// Paths.Extract and Elements ask the host to scan the document natively and
// hand back sub-slices of the guest's own bytes (the json_* host functions of
// pluginsdk/wasm/abi). Built natively (tests, go-plugin, builtin, the host)
// the very same scanner runs in process, so a connector behaves identically in
// every form. The offload is a build-tagged file here rather than a hook the
// Wasm glue installs: Paths keeps the host's handle for its path set, and a
// package-level hook would be global state set by an init.
//
//	var in = fields.MustCompile("$.type", "$.event", "$.context.traits.email")
//
//	var v [3][]byte
//	if err := in.Extract(body, v[:]); err != nil { ... }  // also validates body
//	if fields.Equal(v[0], "track") { ... }
//	o := fields.NewObject(nil)
//	o.Raw("event", v[1])
//	o.Raw("email", v[2])
//	payload := o.Bytes()
package fields

import (
	"fmt"
	"strconv"
	"strings"
)

// Paths is a compiled set of JSON paths that Extract reads in one pass over a
// document. Supported syntax: `$` (the document), `.name`, `['name']` or
// `["name"]`, and `[n]` (array index). A Paths is safe for concurrent use.
type Paths struct {
	src  []string
	root *node
	// handle is the host's id for this set inside the current Wasm instance,
	// and scratch receives the host's spans (guest side only; a guest
	// instance is single-threaded).
	handle  int32
	scratch [][2]uint32
}

type node struct {
	terms []int // indexes of the paths that end at this node
	keys  []keyChild
	idx   []idxChild
}

type keyChild struct {
	key string
	n   *node
}

type idxChild struct {
	i int
	n *node
}

type segment struct {
	key   string
	index int // >= 0 for an array index segment
}

// Compile parses paths into a set read together by Extract.
func Compile(paths ...string) (*Paths, error) {
	p := &Paths{src: append([]string(nil), paths...), root: &node{}}
	for i, s := range paths {
		segs, err := parsePath(s)
		if err != nil {
			return nil, err
		}
		n := p.root
		for _, sg := range segs {
			n = n.child(sg)
		}
		n.terms = append(n.terms, i)
	}
	return p, nil
}

// MustCompile is Compile for paths known at build time; it panics on a bad path.
func MustCompile(paths ...string) *Paths {
	p, err := Compile(paths...)
	if err != nil {
		panic(err)
	}
	return p
}

// Len is the number of paths in the set.
func (p *Paths) Len() int { return len(p.src) }

// Paths returns the source paths in order.
func (p *Paths) Paths() []string { return append([]string(nil), p.src...) }

func (n *node) child(s segment) *node {
	if s.index >= 0 {
		for _, c := range n.idx {
			if c.i == s.index {
				return c.n
			}
		}
		c := &node{}
		n.idx = append(n.idx, idxChild{s.index, c})
		return c
	}
	for _, c := range n.keys {
		if c.key == s.key {
			return c.n
		}
	}
	c := &node{}
	n.keys = append(n.keys, keyChild{s.key, c})
	return c
}

func (n *node) keyChild(raw []byte) *node {
	for i := range n.keys {
		if n.keys[i].key == string(raw) {
			return n.keys[i].n
		}
	}
	return nil
}

func (n *node) idxChild(i int) *node {
	for k := range n.idx {
		if n.idx[k].i == i {
			return n.idx[k].n
		}
	}
	return nil
}

func parsePath(s string) ([]segment, error) {
	bad := func(why string) error { return fmt.Errorf("json path %q: %s", s, why) }
	if strings.IndexByte(s, 0) >= 0 {
		return nil, bad("contains a NUL byte")
	}
	if !strings.HasPrefix(s, "$") {
		return nil, bad("must start with $")
	}
	var segs []segment
	for i := 1; i < len(s); {
		switch s[i] {
		case '.':
			j := i + 1
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			if j == i+1 {
				return nil, bad("empty name after '.'")
			}
			segs = append(segs, segment{key: s[i+1 : j], index: -1})
			i = j
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, bad("unclosed '['")
			}
			inner := s[i+1 : i+end]
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				// A quoted name may itself contain ']' — find the matching quote.
				q := inner[0]
				j := i + 2
				for j < len(s) && s[j] != q {
					j++
				}
				if j+1 >= len(s) || s[j+1] != ']' {
					return nil, bad("unclosed quoted name")
				}
				segs = append(segs, segment{key: s[i+2 : j], index: -1})
				i = j + 2
				continue
			}
			n, err := strconv.Atoi(inner)
			if err != nil || n < 0 {
				return nil, bad("index " + strconv.Quote(inner) + " is not a non-negative integer")
			}
			segs = append(segs, segment{index: n})
			i += end + 1
		default:
			return nil, bad(fmt.Sprintf("unexpected %q at offset %d", s[i], i))
		}
	}
	return segs, nil
}
