package registry

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// SourceVersion reads a connector's version from its Go sources without
// building them: the Version of its pluginsdk.Spec literal, written as a
// string or as a package-level string constant. The version is declared
// once, in the Spec; a source manifest does not repeat it, and `junction
// plugin build` writes it into the built manifest. Validation and the
// bundled-plugin check need it before anything is built, so they read it
// here; a version computed at run time cannot be read and is an error.
func SourceVersion(dir string) (string, error) {
	fset := token.NewFileSet()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("read connector version: %w", err)
	}
	var files []*ast.File
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.SkipObjectResolution)
		if err != nil {
			return "", fmt.Errorf("read connector version: %w", err)
		}
		files = append(files, f)
	}
	consts := stringConsts(files)
	var found []string
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok || !isSpecType(lit.Type) {
				return true
			}
			for _, el := range lit.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if k, _ := kv.Key.(*ast.Ident); !ok || k == nil || k.Name != "Version" {
					continue
				}
				if v, ok := stringValue(kv.Value, consts); ok {
					found = append(found, v)
				}
			}
			return true
		})
	}
	switch {
	case len(found) == 0:
		return "", errors.New("read connector version: no pluginsdk.Spec literal with a constant Version in " + dir)
	case len(found) > 1 && !allEqual(found):
		return "", fmt.Errorf("read connector version: %s declares several Spec versions (%s)", dir, strings.Join(found, ", "))
	}
	return found[0], nil
}

func isSpecType(e ast.Expr) bool {
	switch t := e.(type) {
	case *ast.SelectorExpr:
		return t.Sel.Name == "Spec"
	case *ast.Ident:
		return t.Name == "Spec"
	}
	return false
}

// stringConsts maps the package's string constants to their values.
func stringConsts(files []*ast.File) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if v, ok := stringValue(vs.Values[i], nil); ok {
							out[n.Name] = v
						}
					}
				}
			}
		}
	}
	return out
}

func stringValue(e ast.Expr, consts map[string]string) (string, bool) {
	switch v := e.(type) {
	case *ast.BasicLit:
		if v.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(v.Value)
		return s, err == nil
	case *ast.Ident:
		s, ok := consts[v.Name]
		return s, ok
	}
	return "", false
}

func allEqual(s []string) bool {
	for _, x := range s {
		if x != s[0] {
			return false
		}
	}
	return true
}
