package mapping

import (
	"encoding/json"
	"reflect"
	"testing"
)

const pathDoc = `{
  "a": {"b": [10, 20, {"c": "deep"}], "n": null, "user-agent": "curl"},
  "items": [{"sku": "x", "price": 5}, {"sku": "y", "price": 15}],
  "s": "text"
}`

func TestPathSelect(t *testing.T) {
	doc := mustDecode(t, pathDoc)
	tests := []struct {
		expr     string
		want     []any
		singular bool
	}{
		{expr: "$", want: []any{doc}, singular: true},
		{expr: "$.a.b[0]", want: []any{json.Number("10")}, singular: true},
		{expr: "$.a.b[-1].c", want: []any{"deep"}, singular: true},
		{expr: "$['a'][\"user-agent\"]", want: []any{"curl"}, singular: true},
		{expr: "$.a.n", want: []any{nil}, singular: true},
		{expr: "$.a.missing", want: nil, singular: true},
		{expr: "$.a.b[7]", want: nil, singular: true},
		{expr: "$.a.b[-4]", want: nil, singular: true},
		{expr: "$.a.b.c", want: nil, singular: true},
		{expr: "$.s.x", want: nil, singular: true},
		{expr: "$.s[0]", want: nil, singular: true},
		{expr: "$.a[0]", want: nil, singular: true},
		{expr: "$.items[*].sku", want: []any{"x", "y"}},
		{expr: "$.items[?@.price > 10].sku", want: []any{"y"}},
		{expr: "$..sku", want: []any{"x", "y"}},
		{expr: "$.items[0:1].sku", want: []any{"x"}},
		{expr: "$.items[0,1].sku", want: []any{"x", "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			p, err := CompilePath(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			if p.Singular() != tt.singular {
				t.Errorf("Singular() = %v, want %v", p.Singular(), tt.singular)
			}
			got := p.Select(doc)
			if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
				t.Errorf("Select = %#v, want %#v", got, tt.want)
			}
			first, ok := p.First(doc)
			if ok != (len(tt.want) > 0) || (ok && !reflect.DeepEqual(first, tt.want[0])) {
				t.Errorf("First = %#v, %v", first, ok)
			}
			// The fast path must agree with the RFC 9535 engine.
			if lib := p.query.Select(doc); len(lib) != len(got) || (len(got) > 0 && !reflect.DeepEqual([]any(lib), got)) {
				t.Errorf("library Select = %#v, fast path %#v", lib, got)
			}
		})
	}
}

// A caller's own map and slice types go through the general engine.
func TestPathSelectOtherTypes(t *testing.T) {
	p, err := CompilePath("$.a[1]")
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string][]string{"a": {"x", "y"}}
	if got, ok := p.First(doc); !ok || got != "y" {
		t.Errorf("First = %#v, %v; want y", got, ok)
	}
}

func TestCompilePathErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"", "empty JSONPath; a path starts with $, e.g. $.properties.revenue"},
		{"  ", "empty JSONPath; a path starts with $, e.g. $.properties.revenue"},
		{"properties.revenue", `JSONPath "properties.revenue" must start with $ (the payload root), e.g. $.properties.revenue`},
		{".a", `JSONPath ".a" must start with $ (the payload root), e.g. $.a`},
		{"$.a[", `JSONPath "$.a[": unexpected eof at position 5`},
		{"$.a b", `JSONPath "$.a b": unexpected blank space at position 4`},
		{"$.a[?@.x ==]", `JSONPath "$.a[?@.x ==]": unexpected ']' at position 12`},
	}
	for _, tt := range tests {
		_, err := CompilePath(tt.expr)
		if err == nil || err.Error() != tt.want {
			t.Errorf("CompilePath(%q) error = %v, want %q", tt.expr, err, tt.want)
		}
	}
}

func TestPathString(t *testing.T) {
	p, err := CompilePath(" $.context['user-agent'] ")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.String(); got != "$.context['user-agent']" {
		t.Errorf("String() = %q", got)
	}
}
