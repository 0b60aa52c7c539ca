package mapping

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func TestInferGolden(t *testing.T) {
	for _, name := range []string{"infer_segment", "segment_track"} {
		t.Run(name, func(t *testing.T) {
			payload, err := os.ReadFile(filepath.Join("testdata", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			fields, err := Infer(payload)
			if err != nil {
				t.Fatal(err)
			}
			got := FormatFields(fields)
			golden := filepath.Join("testdata", name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("FormatFields differs from %s (run go test -update after checking):\n%s", golden, got)
			}
			checkFormattedFields(t, got, payload, fields)
		})
	}
}

// checkFormattedFields parses the YAML the way configuration will, and checks
// that every path compiles and selects the example it was inferred from, and
// that every name works in a template.
func checkFormattedFields(t *testing.T, text string, payload []byte, fields []InferredField) {
	t.Helper()
	var parsed struct {
		Fields map[string]struct {
			Path string `yaml:"path"`
			Type string `yaml:"type"`
		} `yaml:"fields"`
	}
	if err := yaml.Unmarshal([]byte(text), &parsed); err != nil {
		t.Fatalf("FormatFields output is not YAML: %v\n%s", err, text)
	}
	if len(parsed.Fields) != len(fields) {
		t.Fatalf("YAML has %d fields, Infer found %d (names not unique?)", len(parsed.Fields), len(fields))
	}
	doc, err := Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	ident := regexp.MustCompile(`^[\pL_][\pL\pN_]*$`)
	for _, f := range fields {
		if !ident.MatchString(f.Name) {
			t.Errorf("name %q cannot be used as {{ .fields.%s }}", f.Name, f.Name)
		}
		y, ok := parsed.Fields[f.Name]
		if !ok {
			t.Errorf("field %q missing from the YAML", f.Name)
			continue
		}
		if y.Path != f.Path || y.Type != string(f.Type) {
			t.Errorf("field %q: YAML has %q %q, want %q %q", f.Name, y.Path, y.Type, f.Path, f.Type)
		}
		p, err := CompilePath(y.Path)
		if err != nil {
			t.Errorf("field %q: %v", f.Name, err)
			continue
		}
		if !p.Singular() {
			t.Errorf("field %q: path %s is not singular", f.Name, y.Path)
		}
		got, ok := p.First(doc)
		if !ok || !reflect.DeepEqual(got, f.Example) {
			t.Errorf("field %q: %s selects %#v, want the example %#v", f.Name, y.Path, got, f.Example)
		}
		typ, err := ParseType(y.Type)
		if err != nil {
			t.Errorf("field %q: %v", f.Name, err)
		}
		if f.Example != nil {
			if _, err := convert(typ, f.Example, y.Path); err != nil {
				t.Errorf("field %q: the inferred type does not fit the example: %v", f.Name, err)
			}
		}
	}
}

func TestInferNames(t *testing.T) {
	payload := `{"traits": {"email": "a"}, "context": {"traits": {"email": "b"}}, "user_id": "c", "userId": "d",
		"ID": "e", "a": {"b-c": 1}, "x": {"b_c": 2}, "true": "f", "": "g", "12": "h", "it's": "i"}`
	fields, err := Infer([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range fields {
		got[f.Path] = f.Name
	}
	want := map[string]string{
		`$.traits.email`:         "traitsEmail",
		`$.context.traits.email`: "contextTraitsEmail",
		`$.userId`:               "userId",
		`$.user_id`:              "userId2",
		`$.ID`:                   "id",
		`$.a["b-c"]`:             "aBC",
		`$.x.b_c`:                "xBC",
		`$.true`:                 "trueField",
		`$["it's"]`:              "its",
		`$[""]`:                  "field",
		`$["12"]`:                "f12",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("names = %v\nwant %v", got, want)
	}
	checkFormattedFields(t, FormatFields(fields), []byte(payload), fields)
}

func TestInferScalarsAndEdgeCases(t *testing.T) {
	tests := []struct {
		payload string
		want    []InferredField
	}{
		{`5`, []InferredField{{Name: "value", Path: "$", Type: TypeNumber, Example: mustDecode(t, `5`)}}},
		{`[{"a": "true"}]`, []InferredField{{Name: "a", Path: "$[0].a", Type: TypeBoolean, Example: "true"}}},
		{`{"a": [], "b": {}}`, nil},
		{`{"a": null}`, []InferredField{{Name: "a", Path: "$.a", Type: TypeString, Example: nil}}},
	}
	for _, tt := range tests {
		got, err := Infer([]byte(tt.payload))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Infer(%s) = %#v, want %#v", tt.payload, got, tt.want)
		}
	}
	if _, err := Infer([]byte(`{"a":`)); err == nil || !strings.HasPrefix(err.Error(), "decode JSON") {
		t.Errorf("Infer(bad JSON) error = %v", err)
	}
}

func TestFormatFieldsQuoting(t *testing.T) {
	fields := []InferredField{
		{Name: "a", Path: `$["it's"]`, Type: TypeString, Example: "x"},
		{Name: "b", Path: "$[\"del\\u007f\"]", Type: TypeAny, Example: "bell\u0007 and del\u007f"},
		{Name: "c", Path: "$[\"\u007f\"]", Type: TypeString, Example: strings.Repeat("long ", 20)},
	}
	got := FormatFields(fields)
	want := "fields:\n" +
		"  b: {path: '$[\"del\\u007f\"]'}               # e.g. \"bell\\u0007 and del?\"\n" +
		"  a: {path: '$[\"it''s\"]', type: string}     # e.g. \"x\"\n" +
		"  c: {path: \"$[\\\"\\u007F\\\"]\", type: string}  # e.g. \"long long long long long long long long long long…\n"
	if got != want {
		t.Errorf("FormatFields =\n%s\nwant\n%s", got, want)
	}
	var parsed map[string]map[string]map[string]string
	if err := yaml.Unmarshal([]byte(got), &parsed); err != nil {
		t.Fatalf("not YAML: %v", err)
	}
	for _, f := range fields {
		if p := parsed["fields"][f.Name]["path"]; p != f.Path {
			t.Errorf("field %s: path read back as %q, want %q", f.Name, p, f.Path)
		}
	}
}
