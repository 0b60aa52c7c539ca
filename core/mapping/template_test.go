package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"text/template"
)

type testRun struct {
	ID      string
	private string
}

func (r testRun) Short() string           { return r.ID[:3] }
func (r *testRun) Fails() (string, error) { return "", errors.New("boom") }

func renderData(t testing.TB) map[string]any {
	t.Helper()
	return map[string]any{
		"event": mustDecode(t, `{"type": "track", "ctx": null, "properties": {"revenue": 25.5, "currency": "usd",
			"products": [{"sku": "a", "price": 3}, {"sku": "b", "price": 4}], "tags": ["x", "y"]}, "ts": "2024-05-01T10:15:30Z", "html": "<b>&</b>"}`),
		"fields": map[string]any{"amount": 25.5, "big": 1e6, "email": "Peter@Example.com", "closed": true, "none": nil, "zero": 0.0, "empty": ""},
		"tasks":  map[string]map[string]any{"save": {"output": map[string]any{"id": "c_1"}}},
		"run":    &testRun{ID: "run_123"},
		"labels": map[string]string{"team": "growth"},
		"counts": map[string]int{"x": 3},
		"ch":     make(chan int),
	}
}

func TestRenderLeaves(t *testing.T) {
	tests := []struct {
		name    string
		leaf    string
		want    any
		wantErr string
	}{
		{name: "typed number", leaf: "{{ .fields.amount }}", want: 25.5},
		{name: "typed without spaces", leaf: "{{.fields.amount}}", want: 25.5},
		{name: "typed with trim markers", leaf: "{{- .fields.amount -}}", want: 25.5},
		{name: "typed bool", leaf: "{{ .fields.closed }}", want: true},
		{name: "typed object", leaf: "{{ .event.properties.products }}", want: []any{map[string]any{"sku": "a", "price": json.Number("3")}, map[string]any{"sku": "b", "price": json.Number("4")}}},
		{name: "typed dollar", leaf: "{{ $.fields.amount }}", want: 25.5},
		{name: "typed task output", leaf: "{{ .tasks.save.output.id }}", want: "c_1"},
		{name: "typed missing is nil", leaf: "{{ .fields.nope }}", want: nil},
		{name: "typed missing task is nil", leaf: "{{ .tasks.nope.output.id }}", want: nil},
		{name: "typed through null is nil", leaf: "{{ .event.ctx.ip }}", want: nil},
		{name: "typed struct field", leaf: "{{ .run.ID }}", want: "run_123"},
		{name: "typed struct method", leaf: "{{ .run.Short }}", want: "run"},
		{name: "typed unexported field is nil", leaf: "{{ .run.private }}", want: nil},
		{name: "typed from map of strings", leaf: "{{ .labels.team }}", want: "growth"},
		{name: "typed missing from map of strings", leaf: "{{ .labels.nope }}", want: nil},
		{name: "typed from other map", leaf: "{{ .counts.x }}", want: 3},
		{name: "typed missing from other map", leaf: "{{ .counts.y }}", want: nil},
		{name: "typed key of a string is nil", leaf: "{{ .event.type.x }}", want: nil},
		{name: "typed key of an array is nil", leaf: "{{ .event.properties.tags.x }}", want: nil},
		{name: "parenthesized chain", leaf: "{{ (.event.properties).currency }}", want: "usd"},
		{name: "json error", leaf: "{{ json .ch }}", wantErr: "v: json: unsupported type: chan int"},
		{name: "surrounding space makes a string", leaf: " {{ .fields.amount }}", want: " 25.5"},
		{name: "mixed text", leaf: "Order {{ .fields.amount }} {{ .event.properties.currency | upper }}", want: "Order 25.5 USD"},
		{name: "mixed number without exponent", leaf: "n={{ .fields.big }}", want: "n=1000000"},
		{name: "mixed missing is empty", leaf: "[{{ .fields.nope }}][{{ .event.ctx.ip }}][{{ .tasks.x.output.id }}]", want: "[][][]"},
		{name: "mixed null is empty", leaf: "[{{ .fields.none }}]", want: "[]"},
		{name: "mixed object is JSON", leaf: "p={{ .event.properties.tags }}", want: `p=["x","y"]`},
		{name: "mixed bool", leaf: "closed={{ .fields.closed }}", want: "closed=true"},
		{name: "pipeline is a string", leaf: "{{ .fields.amount | printf \"%.2f\" }}", want: "25.50"},
		{name: "function call is a string", leaf: "{{ json .fields.amount }}", want: "25.5"},
		{name: "if on missing", leaf: "{{ if .fields.nope }}yes{{ else }}no{{ end }}", want: "no"},
		{name: "if on present", leaf: "{{ if .fields.closed }}yes{{ else }}no{{ end }}", want: "yes"},
		{name: "eq with missing", leaf: `{{ if eq .fields.email "x" }}yes{{ else }}no{{ end }}`, want: "no"},
		{name: "range", leaf: "{{ range .event.properties.products }}{{ .sku }}={{ .price }};{{ end }}", want: "a=3;b=4;"},
		{name: "range over missing", leaf: "{{ range .event.nope }}x{{ else }}none{{ end }}", want: "none"},
		{name: "range with root reference", leaf: "{{ range $i, $p := .event.properties.products }}{{ $i }}:{{ $p.sku }}@{{ $.fields.amount }} {{ end }}", want: "0:a@25.5 1:b@25.5 "},
		{name: "with", leaf: "{{ with .event.properties }}{{ .currency }}{{ end }}", want: "usd"},
		{name: "variable", leaf: "{{ $p := .event.properties }}{{ $p.currency }}", want: "usd"},
		{name: "literal braces", leaf: `{{ "{{" }}x}}`, want: "{{x}}"},
		{name: "html is not escaped", leaf: "{{ .event.html }}!", want: "<b>&</b>!"},
		{name: "struct in text", leaf: "run {{ .run.ID }}", want: "run run_123"},
		{name: "method error", leaf: "{{ .run.Fails }}", wantErr: "v: Fails: boom"},
		{name: "method error in text", leaf: "x{{ .run.Fails }}", wantErr: "v: Fails: boom"},
		{name: "method error in the engine", leaf: "{{ if true }}{{ .run.Fails }}{{ end }}", wantErr: "v: Fails: boom"},
		{name: "formatTime bad value", leaf: `{{ formatTime "2006" "soon" }}`, wantErr: `v: formatTime: "soon" is not a time`},
		{name: "formatTime bad zone", leaf: `{{ formatTime "2006" "Nowhere/City" .event.ts }}`, wantErr: `v: formatTime: time zone "Nowhere/City": unknown time zone Nowhere/City`},
		{name: "formatTime arity", leaf: `{{ formatTime "2006" }}`, wantErr: "v: formatTime takes a layout, an optional time zone and a time"},
		{name: "index bad key", leaf: `{{ index .event.properties.products "x" }}`, wantErr: `v: index: an array needs a whole-number index, not "x"`},
		{name: "function error", leaf: `{{ join "," .fields.amount }}`, wantErr: "v: join needs a list, not 25.5"},
		{name: "builtin error", leaf: `{{ lt .fields.email 3 }}`, wantErr: "v: lt: incompatible types for comparison: string and int"},
	}
	data := renderData(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := CompileValue(map[string]any{"v": tt.leaf})
			if err != nil {
				t.Fatal(err)
			}
			out, err := v.Render(data)
			if tt.wantErr != "" {
				var te *TemplateError
				if !errors.As(err, &te) || te.Path != "v" {
					t.Fatalf("error %v is not a *TemplateError at v", err)
				}
			}
			var got any
			if err == nil {
				got = out.(map[string]any)["v"]
			}
			checkResult(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestRenderFunctions(t *testing.T) {
	tests := []struct{ leaf, want string }{
		{`{{ .fields.none | default "n/a" }}`, "n/a"},
		{`{{ .fields.empty | default "n/a" }}`, "n/a"},
		{`{{ .fields.zero | default 5 }}`, "0"},
		{`{{ .fields.email | default "n/a" }}`, "Peter@Example.com"},
		{`{{ .event.properties.tags | default "none" }}`, `["x","y"]`},
		{`{{ .event.nope | default "none" }}`, "none"},
		{`{{ index .event.properties.products "1" "sku" }}`, "b"},
		{`{{ index .event.properties.products 1.0 "sku" }}`, "b"},
		{`{{ index .labels "team" }}`, "growth"},
		{`{{ lower .fields.email }}`, "peter@example.com"},
		{`{{ .fields.email | upper }}`, "PETER@EXAMPLE.COM"},
		{`{{ trim "  a b  " }}`, "a b"},
		{`{{ json .event.properties.products }}`, `[{"price":3,"sku":"a"},{"price":4,"sku":"b"}]`},
		{`{{ json .fields.nope }}`, "null"},
		{`{{ json .event.html }}`, `"<b>&</b>"`},
		{`{{ .event.properties.tags | join ", " }}`, "x, y"},
		{`{{ join "," .fields.nope }}`, ""},
		{`{{ formatTime "2006-01-02 15:04" .event.ts }}`, "2024-05-01 10:15"},
		{`{{ formatTime "15:04 MST" "Europe/Rome" .event.ts }}`, "12:15 CEST"},
		{`{{ formatTime "2006-01-02T15:04:05Z07:00" 1714558530 }}`, "2024-05-01T10:15:30Z"},
		{`{{ formatTime "2006-01-02T15:04:05.000Z07:00" 1714558530123 }}`, "2024-05-01T10:15:30.123Z"},
		{`{{ formatTime "2006" .fields.nope }}`, ""},
		{`{{ formatTime "2006-01-02T15:04:05.0Z07:00" 10000000000.5 }}`, "2286-11-20T17:46:40.5Z"},
		{`{{ formatTime "2006-01-02" "1714558530" }}`, "2024-05-01"},
		{`{{ urlquery .fields.email "&x=1" }}`, "Peter%40Example.com%26x%3D1"},
		{`{{ urlquery .fields.nope }}`, ""},
		{`{{ sha256 "abc" }}`, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{`{{ hmacSHA256 "key" "The quick brown fox jumps over the lazy dog" }}`, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"},
		{`{{ index .event.properties.products 1 "sku" }}`, "b"},
		{`{{ index .event.properties.products 5 "sku" }}`, ""},
		{`{{ index .event "properties" "currency" }}`, "usd"},
		{`{{ index .event.nope "x" }}`, ""},
		{`{{ printf "%s-%d" .fields.email 7 }}`, "Peter@Example.com-7"},
		{`{{ len .event.properties.tags }}`, "2"},
	}
	data := renderData(t)
	for _, tt := range tests {
		t.Run(tt.leaf, func(t *testing.T) {
			v, err := CompileValue(tt.leaf)
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Render(data)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Render = %#v, want %q", got, tt.want)
			}
		})
	}
}

func TestRenderNow(t *testing.T) {
	v, err := CompileValue("{{ now }}")
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Render(nil)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := got.(string)
	if _, ok := timeValue(s); !ok || !strings.HasSuffix(s, "Z") {
		t.Errorf("now = %q, want an RFC 3339 UTC time", got)
	}
}

func TestRenderTree(t *testing.T) {
	with := map[string]any{
		"directory": "POOL_demo",
		"tries":     3,
		"enabled":   true,
		"nothing":   nil,
		"contact":   map[string]any{"email": "{{ .fields.email }}", "note": "from {{ .event.type }}"},
		"items":     []any{"{{ .fields.amount }}", 7, map[string]any{"sku": "{{ index .event.properties.products 0 \"sku\" }}"}},
	}
	v, err := CompileValue(with)
	if err != nil {
		t.Fatal(err)
	}
	data := renderData(t)
	want := map[string]any{
		"directory": "POOL_demo",
		"tries":     3,
		"enabled":   true,
		"nothing":   nil,
		"contact":   map[string]any{"email": "Peter@Example.com", "note": "from track"},
		"items":     []any{25.5, 7, map[string]any{"sku": "a"}},
	}
	for range 2 { // rendering twice gives the same result: nothing is mutated
		got, err := v.Render(data)
		if err != nil {
			t.Fatal(err)
		}
		if !deepEqualStrict(got, want) {
			t.Errorf("Render = %#v, want %#v", got, want)
		}
		got.(map[string]any)["contact"].(map[string]any)["email"] = "changed"
	}
	if with["contact"].(map[string]any)["email"] != "{{ .fields.email }}" {
		t.Error("CompileValue changed its input")
	}
}

func TestCompileValueErrors(t *testing.T) {
	tests := []struct {
		name string
		v    any
		path string
		want string
	}{
		{"root leaf", "{{ .x", "", "unclosed action"},
		{"map leaf", map[string]any{"body": map[string]any{"order": "{{ foo .x }}"}}, "body.order", `body.order: function "foo" not defined`},
		{"list leaf", map[string]any{"items": []any{"ok", "{{ .a }}", "{{ end }}"}}, "items[2]", "items[2]: unexpected {{end}}"},
		{"root list", []any{"{{ if .a }}"}, "[0]", "[0]: unexpected EOF"},
		{"multi-line leaf keeps the line", map[string]any{"body": "line one\n{{ .a | nope }}"}, "body", `body: line 2: function "nope" not defined`},
		{"first bad leaf by key", map[string]any{"b": "{{ x }}", "a": "{{ y }}"}, "a", `a: function "y" not defined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileValue(tt.v)
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("error %v is not a *TemplateError", err)
			}
			if te.Path != tt.path || err.Error() != tt.want {
				t.Errorf("error = %q at %q, want %q at %q", err, te.Path, tt.want, tt.path)
			}
		})
	}
}

func TestReferences(t *testing.T) {
	v, err := CompileValue(map[string]any{
		"a":     "{{ .fields.email }}",
		"b":     "{{ if .fields.vip }}{{ .tasks.save.output.id }}{{ else }}{{ .event.type }}{{ end }}",
		"c":     "{{ range .event.items }}{{ .sku }}{{ $.fields.currency }}{{ else }}{{ .fields.empty }}{{ end }}",
		"d":     "{{ with .tasks.lookup.output }}{{ .name }}{{ end }}",
		"e":     []any{`{{ printf "%s" (lower .run.id) }}`, "{{ .event }}", "{{ $x := .fields.var }}{{ $x.y }}"},
		"f":     "{{ .fields.email }} again",
		"plain": "no templates",
		"num":   5,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Ref{
		{Root: "fields", Name: "email", Leaf: "a", Text: ".fields.email"},
		{Root: "fields", Name: "vip", Leaf: "b", Text: ".fields.vip"},
		{Root: "tasks", Name: "save", Leaf: "b", Text: ".tasks.save.output.id"},
		{Root: "event", Name: "type", Leaf: "b", Text: ".event.type"},
		{Root: "event", Name: "items", Leaf: "c", Text: ".event.items"},
		{Root: "fields", Name: "currency", Leaf: "c", Text: ".fields.currency"},
		{Root: "fields", Name: "empty", Leaf: "c", Text: ".fields.empty"},
		{Root: "tasks", Name: "lookup", Leaf: "d", Text: ".tasks.lookup.output"},
		{Root: "run", Name: "id", Leaf: "e[0]", Text: ".run.id"},
		{Root: "event", Name: "", Leaf: "e[1]", Text: ".event"},
		{Root: "fields", Name: "var", Leaf: "e[2]", Text: ".fields.var"},
		{Root: "fields", Name: "email", Leaf: "f", Text: ".fields.email"},
	}
	if got := v.References(); !reflect.DeepEqual(got, want) {
		t.Errorf("References() =\n%v\nwant\n%v", got, want)
	}
}

// TestTextRendererMatchesEngine checks that leaves of text and references,
// rendered without the template engine, give exactly what the engine gives.
func TestTextRendererMatchesEngine(t *testing.T) {
	data := renderData(t)
	for _, leaf := range []string{
		"Order {{ .fields.amount }} for {{ .fields.email }}",
		"[{{ .fields.nope }}][{{ .event.ctx.ip }}][{{ .fields.none }}]",
		"{{ .fields.big }}/{{ .fields.closed }}/{{ .event.properties.tags }}/{{ .event.properties }}",
		"{{ $.tasks.save.output.id }} {{ .run.ID }} {{ .run.Short }} {{ .run.private }}",
		"{{- .fields.zero }} {{ .event.properties.revenue -}} !",
		"{{ .event }}",
	} {
		tmpl, err := template.New(leafName).Funcs(templateFuncs).Parse(leaf)
		if err != nil {
			t.Fatal(err)
		}
		parts, ok := textAndReferences(tmpl)
		if !ok {
			t.Fatalf("%q is not text and references", leaf)
		}
		fast, err := (&textRenderer{parts: parts}).render(data)
		if err != nil {
			t.Fatal(err)
		}
		rewrite(tmpl)
		engine, err := (&templateRenderer{t: tmpl, src: leaf}).render(data)
		if err != nil {
			t.Fatal(err)
		}
		if fast != engine {
			t.Errorf("%q: fast path %q, engine %q", leaf, fast, engine)
		}
	}
}

func TestCompileValueGoContainers(t *testing.T) {
	v, err := CompileValue(map[string]any{
		"headers": map[string]string{"X-Email": "{{ .fields.email }}"},
		"list":    []string{"{{ .fields.amount }}", "plain"},
		"raw":     []byte("{{ x }}"),
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Render(renderData(t))
	if err != nil {
		t.Fatal(err)
	}
	m := got.(map[string]any)
	if h := m["headers"].(map[string]any)["X-Email"]; h != "Peter@Example.com" {
		t.Errorf("headers rendered to %#v", m["headers"])
	}
	if l := m["list"].([]any); l[0] != 25.5 || l[1] != "plain" {
		t.Errorf("list rendered to %#v", l)
	}
	if string(m["raw"].([]byte)) != "{{ x }}" {
		t.Errorf("raw bytes rendered to %#v", m["raw"])
	}
}

// Compiled values are shared by every run of a workflow; go test -race
// checks that rendering from many goroutines is safe.
func TestRenderConcurrent(t *testing.T) {
	v, err := CompileValue(map[string]any{
		"a": "{{ .fields.amount }}",
		"b": "x {{ .fields.email }}",
		"c": "{{ range .event.properties.tags }}{{ . }}{{ end }}",
	})
	if err != nil {
		t.Fatal(err)
	}
	data := renderData(t)
	want, err := v.Render(data)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 200 {
				got, err := v.Render(data)
				if err != nil || !reflect.DeepEqual(got, want) {
					errs <- fmt.Sprintf("Render = %#v, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
