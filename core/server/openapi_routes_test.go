package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/openapi"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/workflow"
)

// allAPIs sets every field of APIs to a zero API of its type, so that a
// field added later is walked too without editing this test. Routes only
// registers handlers; nothing here is called.
func allAPIs(t *testing.T) APIs {
	t.Helper()
	var a APIs
	v := reflect.ValueOf(&a).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.Pointer {
			t.Fatalf("APIs.%s is a %s: want a pointer to its api package's API", v.Type().Field(i).Name, f.Kind())
		}
		f.Set(reflect.New(f.Type().Elem()))
	}
	return a
}

var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestOpenAPICoversEveryRoute: the document at /api/v1/openapi.json lists
// exactly the routes the server serves under /api/v1, method by method.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := connector.NewManager(ctx, connector.ManagerOptions{Store: st, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	r, err := connector.NewResolver(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := workflow.New(workflow.Options{Store: st, Resolver: r})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Store: st, Connections: m, Engine: e, AdminTokenHash: sha256.Sum256([]byte("tok")), Logger: quiet, APIs: allAPIs(t)})

	served := map[string]bool{}
	for _, rt := range s.App().GetRoutes(true) {
		rest, ok := strings.CutPrefix(rt.Path, "/api/v1/")
		// fiber answers HEAD for every GET by itself: not a route of ours.
		if !ok || rt.Method == "HEAD" {
			continue
		}
		served[rt.Method+" /"+fiberParam.ReplaceAllString(rest, "{$1}")] = true
	}
	if len(served) < 30 {
		t.Fatalf("found %d /api/v1 routes: the walk is not seeing the router", len(served))
	}

	raw, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Servers []struct{ URL string } `json:"servers"`
		Paths   map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v1" {
		t.Fatalf("servers = %+v, want one, /api/v1: the paths below are relative to it", doc.Servers)
	}
	documented := map[string]bool{}
	for p, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				documented[strings.ToUpper(method)+" "+p] = true
			}
		}
	}

	var missing, stale []string
	for r := range served {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !served[r] {
			stale = append(stale, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	for _, r := range missing {
		t.Errorf("%s is served but not in core/openapi/openapi.yaml: document it", r)
	}
	for _, r := range stale {
		t.Errorf("%s is in core/openapi/openapi.yaml but not served: remove it, or register its api in server.APIs", r)
	}
}
