package mapping

import (
	"os"
	"path/filepath"
	"testing"
	"text/template"

	"gopkg.in/yaml.v3"
)

// FuzzDecodeApply feeds arbitrary bytes through everything that sees a raw
// payload: Decode must agree with encoding/json, and a decoded payload must
// never make a filter, the fields, a template or inference panic, and
// inference must always print YAML whose paths compile.
func FuzzDecodeApply(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{}`, `[]`, `null`, `"\ud800"`, `{"a":[{"b":null}]}`, `{"type":"track","n":"1e999"}`, "\"\xff\"", `{"":{"'":1}}`} {
		f.Add([]byte(s))
	}
	filter, err := CompileFilter([]Condition{
		{Path: "$.type", Op: "eq", Value: "track"},
		{Path: "$..n", Op: "gt", Value: 1},
		{Path: "$.tags", Op: "contains", Value: "x"},
		{Path: "$.ts", Op: "lt", Value: "2030-01-01T00:00:00Z"},
		{Path: "$.*", Op: "matches", Value: "a+"},
	})
	if err != nil {
		f.Fatal(err)
	}
	fields, err := CompileFields(map[string]FieldSpec{
		"n": {Path: "$.n", Type: TypeNumber},
		"b": {Path: "$.b", Type: TypeBoolean},
		"s": {Path: "$.s", Type: TypeString},
		"l": {Path: "$..*"},
		"a": {Path: "$[0]"},
	})
	if err != nil {
		f.Fatal(err)
	}
	tmpl, err := CompileValue(map[string]any{"x": "{{ .event }}", "y": "{{ json .event }} {{ .fields.l }} {{ index .event 0 }}"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkSameAsEncodingJSON(t, payload)
		doc, err := Decode(payload)
		if err != nil {
			return
		}
		filter.Match(doc)
		fv, _ := fields.Apply(doc)
		_, _ = tmpl.Render(map[string]any{"event": doc, "fields": fv})
		inferred, err := Infer(payload)
		if err != nil {
			t.Fatalf("Infer rejects a payload Decode accepts: %v", err)
		}
		text := FormatFields(inferred)
		var parsed struct {
			Fields map[string]struct{ Path string } `yaml:"fields"`
		}
		if err := yaml.Unmarshal([]byte(text), &parsed); err != nil {
			t.Fatalf("FormatFields output is not YAML: %v\n%s", err, text)
		}
		if len(parsed.Fields) != len(inferred) {
			t.Fatalf("YAML has %d fields, Infer found %d:\n%s", len(parsed.Fields), len(inferred), text)
		}
		for name, fd := range parsed.Fields {
			if _, err := CompilePath(fd.Path); err != nil {
				t.Fatalf("field %s: %v", name, err)
			}
		}
	})
}

// FuzzTemplate compiles arbitrary leaves: whatever text/template accepts must
// survive the parse-tree rewrite and render without a panic, and a leaf made
// of text and references must render the same with and without the engine.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"{{ .fields.amount }}", "a {{ .event.x }} b", "{{ range $i, $e := .event.items }}{{ $e.sku }}{{ break }}{{ end }}",
		"{{ with .fields.x }}{{ . }}{{ else with .fields.y }}{{ . }}{{ end }}", `{{ define "t" }}{{ .a }}{{ end }}{{ template "t" .event }}`,
		"{{ $x := .event }}{{ $x.type }}", "{{ (.event).type }}", `{{ index .event "type" | printf "%s" | upper }}`,
		"{{ block \"b\" .fields }}{{ .amount }}{{ end }}", "{{ .fields.amount 1 }}", "{{ $.tasks.t.output }}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, leaf string) {
		v, err := CompileValue(leaf)
		if err != nil {
			return
		}
		data := map[string]any{
			"event":  map[string]any{"type": "track", "items": []any{map[string]any{"sku": "a"}}, "n": nil},
			"fields": map[string]any{"amount": 12.5, "x": "", "y": true},
			"tasks":  map[string]map[string]any{"t": {"output": map[string]any{"id": "1"}}},
		}
		_, _ = v.Render(data)
		_ = v.References()
		tmpl, err := template.New(leafName).Funcs(templateFuncs).Parse(leaf)
		if err != nil {
			t.Fatalf("CompileValue accepts %q but text/template does not: %v", leaf, err)
		}
		parts, ok := textAndReferences(tmpl)
		if !ok {
			return
		}
		fast, fastErr := (&textRenderer{parts: parts}).render(data)
		rewrite(tmpl)
		engine, engineErr := (&templateRenderer{t: tmpl, src: leaf}).render(data)
		if fast != engine || (fastErr == nil) != (engineErr == nil) {
			t.Fatalf("%q: fast path %#v, %v; engine %#v, %v", leaf, fast, fastErr, engine, engineErr)
		}
	})
}
