package mapping

import (
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
)

// singleReference reports whether a leaf is exactly one action whose
// pipeline is a single field chain ({{ .fields.amount }} or
// {{ $.event.items }}), and returns the chain.
func singleReference(t *template.Template) ([]string, bool) {
	if len(t.Templates()) != 1 || t.Tree == nil || len(t.Tree.Root.Nodes) != 1 {
		return nil, false
	}
	a, ok := t.Tree.Root.Nodes[0].(*parse.ActionNode)
	if !ok {
		return nil, false
	}
	return actionReference(a)
}

// textPart is a piece of a leaf made only of text and single references:
// literal text, or the chain of a reference.
type textPart struct {
	text  string
	chain []string
}

// textAndReferences splits a leaf such as "Order {{ .fields.order }} for
// {{ .fields.email }}" into parts, when it holds nothing but text and single
// references. Such leaves, the most common kind after single references, are
// rendered without the template engine, with the same result.
func textAndReferences(t *template.Template) ([]textPart, bool) {
	if len(t.Templates()) != 1 || t.Tree == nil {
		return nil, false
	}
	parts := make([]textPart, 0, len(t.Tree.Root.Nodes))
	for _, n := range t.Tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			parts = append(parts, textPart{text: string(n.Text)})
		case *parse.ActionNode:
			chain, ok := actionReference(n)
			if !ok {
				return nil, false
			}
			parts = append(parts, textPart{chain: chain})
		default:
			return nil, false
		}
	}
	return parts, true
}

// actionReference returns the chain of an action that is a single field
// chain: {{ .a.b }} or {{ $.a.b }}.
func actionReference(a *parse.ActionNode) ([]string, bool) {
	if len(a.Pipe.Decl) != 0 || len(a.Pipe.Cmds) != 1 || len(a.Pipe.Cmds[0].Args) != 1 {
		return nil, false
	}
	switch n := a.Pipe.Cmds[0].Args[0].(type) {
	case *parse.FieldNode:
		return n.Ident, true
	case *parse.VariableNode:
		if n.Ident[0] == "$" && len(n.Ident) > 1 {
			return n.Ident[1:], true
		}
	}
	return nil, false
}

// rewrite adapts the parse trees of t to the rules of this package, the way
// html/template rewrites pipelines to escape them:
//   - every field chain (.a.b, $.a.b, $x.a.b) becomes a call to get, so a
//     missing key or a null anywhere in the chain gives nil instead of
//     "<no value>" or a "nil pointer evaluating interface {}" error;
//   - every printing action ends with a call to toString, so nil prints as
//     nothing and numbers, booleans and objects print the same as they
//     convert to a string field.
func rewrite(t *template.Template) {
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			rewriteList(tt.Tree.Root)
		}
	}
}

func rewriteList(l *parse.ListNode) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			rewritePipe(n.Pipe)
			if len(n.Pipe.Decl) == 0 {
				n.Pipe.Cmds = append(n.Pipe.Cmds, funcCommand(n.Pos, printFunc))
			}
		case *parse.IfNode:
			rewriteBranch(&n.BranchNode)
		case *parse.RangeNode:
			rewriteBranch(&n.BranchNode)
		case *parse.WithNode:
			rewriteBranch(&n.BranchNode)
		case *parse.TemplateNode:
			rewritePipe(n.Pipe)
		case *parse.ListNode:
			rewriteList(n)
		}
	}
}

func rewriteBranch(b *parse.BranchNode) {
	rewritePipe(b.Pipe)
	rewriteList(b.List)
	rewriteList(b.ElseList)
}

func rewritePipe(p *parse.PipeNode) {
	if p == nil {
		return
	}
	for _, cmd := range p.Cmds {
		for i, arg := range cmd.Args {
			// A field chain followed by arguments is a method call; leave it
			// to text/template.
			if i == 0 && len(cmd.Args) > 1 {
				if _, ok := arg.(*parse.FieldNode); ok {
					continue
				}
			}
			cmd.Args[i] = rewriteArg(arg)
		}
	}
}

func rewriteArg(arg parse.Node) parse.Node {
	switch n := arg.(type) {
	case *parse.FieldNode:
		return getCall(n.Pos, &parse.DotNode{NodeType: parse.NodeDot, Pos: n.Pos}, n.Ident)
	case *parse.VariableNode:
		if len(n.Ident) > 1 {
			v := &parse.VariableNode{NodeType: parse.NodeVariable, Pos: n.Pos, Ident: n.Ident[:1]}
			return getCall(n.Pos, v, n.Ident[1:])
		}
	case *parse.PipeNode:
		rewritePipe(n)
	case *parse.ChainNode:
		if p, ok := n.Node.(*parse.PipeNode); ok {
			rewritePipe(p)
		}
	}
	return arg
}

// getCall builds the pipeline (get RECV "k1" "k2" ...).
func getCall(pos parse.Pos, recv parse.Node, keys []string) *parse.PipeNode {
	cmd := funcCommand(pos, getFunc)
	cmd.Args = append(cmd.Args, recv)
	for _, k := range keys {
		cmd.Args = append(cmd.Args, &parse.StringNode{NodeType: parse.NodeString, Pos: pos, Quoted: strconv.Quote(k), Text: k})
	}
	return &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{cmd}}
}

func funcCommand(pos parse.Pos, name string) *parse.CommandNode {
	return &parse.CommandNode{
		NodeType: parse.NodeCommand,
		Pos:      pos,
		Args:     []parse.Node{parse.NewIdentifier(name).SetPos(pos)},
	}
}

// references walks the parse trees of t (before rewrite) for chains that
// start at the render data: .x.y where dot is still the data (top level,
// inside if, and in the else branch of range and with) and $.x.y anywhere.
func references(t *template.Template, leaf string) []Ref {
	w := refWalker{leaf: leaf}
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		// In a {{define}}d template dot is whatever the caller passed.
		w.list(tt.Tree.Root, tt.Name() == t.Name())
	}
	return w.refs
}

type refWalker struct {
	leaf string
	refs []Ref
}

func (w *refWalker) list(l *parse.ListNode, rootDot bool) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			w.pipe(n.Pipe, rootDot)
		case *parse.IfNode:
			w.pipe(n.Pipe, rootDot)
			w.list(n.List, rootDot)
			w.list(n.ElseList, rootDot)
		case *parse.RangeNode:
			w.pipe(n.Pipe, rootDot)
			w.list(n.List, false)
			w.list(n.ElseList, rootDot)
		case *parse.WithNode:
			w.pipe(n.Pipe, rootDot)
			w.list(n.List, false)
			w.list(n.ElseList, rootDot)
		case *parse.TemplateNode:
			w.pipe(n.Pipe, rootDot)
		case *parse.ListNode:
			w.list(n, rootDot)
		}
	}
}

func (w *refWalker) pipe(p *parse.PipeNode, rootDot bool) {
	if p == nil {
		return
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			w.arg(arg, rootDot)
		}
	}
}

func (w *refWalker) arg(n parse.Node, rootDot bool) {
	switch n := n.(type) {
	case *parse.FieldNode:
		if rootDot {
			w.add(n.Ident)
		}
	case *parse.VariableNode:
		if n.Ident[0] == "$" && len(n.Ident) > 1 {
			w.add(n.Ident[1:])
		}
	case *parse.PipeNode:
		w.pipe(n, rootDot)
	case *parse.ChainNode:
		w.arg(n.Node, rootDot)
	}
}

func (w *refWalker) add(chain []string) {
	r := Ref{Root: chain[0], Leaf: w.leaf, Text: "." + strings.Join(chain, ".")}
	if len(chain) > 1 {
		r.Name = chain[1]
	}
	w.refs = append(w.refs, r)
}
