package server

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/junctionhub/junction/"

// coreImports maps each package directory under core/ (relative to the
// module root, e.g. "core/fetch/fetchapi") to the imports of its non-test
// files. Tests may build a fiber app to serve an api package (the CLI's
// tests do), so only the code that ships is held to the rule.
func coreImports(t *testing.T) map[string]map[string]bool {
	t.Helper()
	root := filepath.Join("..", "..")
	out := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(filepath.Join(root, "core"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(rel)
		if out[dir] == nil {
			out[dir] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			v, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			out[dir][v] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("found %d packages under core/: the walk is not reading the tree", len(out))
	}
	return out
}

// isAPI reports whether dir is a domain's api package (fetch/fetchapi).
func isAPI(dir string) bool { return strings.HasSuffix(path.Base(dir), "api") }

func isServer(dir string) bool { return dir == "core/server" || strings.HasPrefix(dir, "core/server/") }

// apiErrors is the one package outside them that imports fiber: the error
// shape the server and every api package answer with.
const apiErrors = "core/internal/apierror"

// TestFiberOnlyInHTTPPackages checks the rule of the package doc: fiber
// is imported only by the server, its subpackages, the api packages and
// their shared error shape; an api package imports neither the server nor
// the console; and the console is imported only by the hub, which adapts
// the domains to it.
func TestFiberOnlyInHTTPPackages(t *testing.T) {
	imports := coreImports(t)
	apis := 0
	for dir, imps := range imports {
		if isAPI(dir) {
			apis++
		}
		for imp := range imps {
			switch {
			case strings.HasPrefix(imp, "github.com/gofiber/fiber") && !isServer(dir) && !isAPI(dir) && dir != apiErrors:
				t.Errorf("%s imports %s: only core/server, its subpackages, the <domain>api packages and %s may serve HTTP", dir, imp, apiErrors)
			case isAPI(dir) && isServer(strings.TrimPrefix(imp, module)):
				t.Errorf("%s imports %s: an api package is registered by the server, never the other way", dir, imp)
			case imp == module+"core/server/console" && dir != "core/hub" && !isServer(dir):
				t.Errorf("%s imports the console: only the hub adapts domains to it", dir)
			}
		}
	}
	if want := 12; apis != want {
		t.Errorf("found %d api packages, want %d (directory, fetch, stats, schedule, plugin, store, workflow, connector, config, alert, openapi, tap): a new one belongs in server.APIs and here", apis, want)
	}
}
