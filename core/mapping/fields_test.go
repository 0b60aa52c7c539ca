package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
)

const fieldsDoc = `{
  "type": "track",
  "context": {"traits": {"email": "peter@example.com", "phone": null}},
  "properties": {"revenue": "25.00", "products": [{"sku": "a"}, {"sku": "b"}], "gift": "true"}
}`

func TestFieldsApply(t *testing.T) {
	tests := []struct {
		name    string
		spec    FieldSpec
		want    any
		wantErr string
	}{
		{name: "string", spec: FieldSpec{Path: "$.context.traits.email", Type: TypeString}, want: "peter@example.com"},
		{name: "numeric string", spec: FieldSpec{Path: "$.properties.revenue", Type: TypeNumber}, want: 25.0},
		{name: "boolean string", spec: FieldSpec{Path: "$.properties.gift", Type: TypeBoolean}, want: true},
		{name: "missing gives nil", spec: FieldSpec{Path: "$.context.traits.plan", Type: TypeString}, want: nil},
		{name: "null gives nil", spec: FieldSpec{Path: "$.context.traits.phone", Type: TypeString}, want: nil},
		{name: "missing gives default", spec: FieldSpec{Path: "$.context.traits.plan", Type: TypeString, Default: "free"}, want: "free"},
		{name: "null gives default", spec: FieldSpec{Path: "$.context.traits.phone", Default: "n/a"}, want: "n/a"},
		{name: "default is converted", spec: FieldSpec{Path: "$.nope", Type: TypeNumber, Default: "0"}, want: 0.0},
		{name: "integer default becomes a number", spec: FieldSpec{Path: "$.nope", Type: TypeNumber, Default: 5}, want: 5.0},
		{name: "required missing", spec: FieldSpec{Path: "$.context.traits.plan", Required: true},
			wantErr: "field f: $.context.traits.plan is missing and the field is required"},
		{name: "required null", spec: FieldSpec{Path: "$.context.traits.phone", Type: TypeString, Required: true},
			wantErr: "field f: $.context.traits.phone is null and the field is required"},
		{name: "required present", spec: FieldSpec{Path: "$.type", Required: true}, want: "track"},
		{name: "typed multi-match takes the first", spec: FieldSpec{Path: "$.properties.products[*].sku", Type: TypeString}, want: "a"},
		{name: "untyped multi-match takes the list", spec: FieldSpec{Path: "$.properties.products[*].sku"}, want: []any{"a", "b"}},
		{name: "untyped multi-match with no match is missing", spec: FieldSpec{Path: "$.properties.nope[*].sku", Default: "none"}, want: "none"},
		{name: "untyped singular keeps the array", spec: FieldSpec{Path: "$.properties.products[1]"}, want: map[string]any{"sku": "b"}},
		{name: "conversion error", spec: FieldSpec{Path: "$.context.traits.email", Type: TypeNumber},
			wantErr: `field f: $.context.traits.email is "peter@example.com", not a number`},
	}
	doc := mustDecode(t, fieldsDoc)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := CompileFields(map[string]FieldSpec{"f": tt.spec})
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.Apply(doc)
			if err == nil {
				if _, ok := got["f"]; !ok {
					t.Fatalf("Apply result %v has no key f", got)
				}
			}
			checkResult(t, got["f"], err, tt.want, tt.wantErr)
			if tt.wantErr != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != "f" {
					t.Errorf("error %v is not a *FieldError for f", err)
				}
			}
		})
	}
}

func TestFieldsRequiredIsErrRequired(t *testing.T) {
	f, err := CompileFields(map[string]FieldSpec{"email": {Path: "$.email", Required: true}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Apply(map[string]any{}); !errors.Is(err, ErrRequired) {
		t.Errorf("error %v is not ErrRequired", err)
	}
}

func TestFieldsApplyMany(t *testing.T) {
	f, err := CompileFields(map[string]FieldSpec{
		"email":  {Path: "$.context.traits.email", Type: TypeString},
		"amount": {Path: "$.properties.revenue", Type: TypeNumber},
		"type":   {Path: "$.type"},
		"bad1":   {Path: "$.type", Type: TypeNumber},
		"bad2":   {Path: "$.context", Type: TypeBoolean},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Names(), []string{"amount", "bad1", "bad2", "email", "type"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	// The first failing field in name order is reported, every time.
	for range 5 {
		_, err := f.Apply(mustDecode(t, fieldsDoc))
		if want := `field bad1: $.type is "track", not a number`; err == nil || err.Error() != want {
			t.Fatalf("error = %v, want %q", err, want)
		}
	}
	good, err := CompileFields(map[string]FieldSpec{
		"email":  {Path: "$.context.traits.email", Type: TypeString},
		"amount": {Path: "$.properties.revenue", Type: TypeNumber},
		"type":   {Path: "$.type"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := good.Apply(mustDecode(t, fieldsDoc))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"email": "peter@example.com", "amount": 25.0, "type": "track"}
	if !deepEqualStrict(got, want) {
		t.Errorf("Apply = %#v, want %#v", got, want)
	}
}

func TestCompileFieldsErrors(t *testing.T) {
	tests := []struct {
		name  string
		specs map[string]FieldSpec
		want  string
	}{
		{name: "bad type", specs: map[string]FieldSpec{"amount": {Path: "$.a", Type: "int"}},
			want: `field amount: unknown type "int"; use string, number or boolean (or leave it out to keep the value as is)`},
		{name: "no path", specs: map[string]FieldSpec{"amount": {Type: TypeNumber}},
			want: "field amount: path is required, e.g. {path: $.properties.revenue}"},
		{name: "bad path", specs: map[string]FieldSpec{"amount": {Path: "$.a["}},
			want: `field amount: JSONPath "$.a[": unexpected eof at position 5`},
		{name: "bad default", specs: map[string]FieldSpec{"amount": {Path: "$.a", Type: TypeNumber, Default: "zero"}},
			want: `field amount: default is "zero", not a number`},
		{name: "required with default", specs: map[string]FieldSpec{"amount": {Path: "$.a", Required: true, Default: 1}},
			want: "field amount: a required field cannot have a default"},
		{name: "first bad field by name", specs: map[string]FieldSpec{"b": {Path: "x"}, "a": {Path: "y"}},
			want: `field a: JSONPath "y" must start with $ (the payload root), e.g. $.y`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileFields(tt.specs)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
		})
	}
}

func TestFieldsDefaultJSONNumber(t *testing.T) {
	f, err := CompileFields(map[string]FieldSpec{"n": {Path: "$.n", Type: TypeNumber, Default: json.Number("1.5")}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Apply(map[string]any{})
	if err != nil || got["n"] != 1.5 {
		t.Errorf("Apply = %v, %v; want n=1.5", got, err)
	}
}

// Compiled fields and filters are shared by every run of a workflow; go test
// -race checks that using them from many goroutines is safe.
func TestFieldsAndFilterConcurrent(t *testing.T) {
	fields, err := CompileFields(map[string]FieldSpec{
		"email": {Path: "$.context.traits.email", Type: TypeString},
		"skus":  {Path: "$.properties.products[*].sku"},
	})
	if err != nil {
		t.Fatal(err)
	}
	filter, err := CompileFilter([]Condition{{Path: "$..sku", Op: "in", Value: []any{"b"}}})
	if err != nil {
		t.Fatal(err)
	}
	doc := mustDecode(t, fieldsDoc)
	var wg sync.WaitGroup
	failed := make(chan string, 4)
	for range 4 {
		wg.Go(func() {
			for range 200 {
				got, err := fields.Apply(doc)
				if err != nil || got["email"] != "peter@example.com" || !filter.Match(doc) {
					failed <- fmt.Sprintf("Apply = %v, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(failed)
	for f := range failed {
		t.Error(f)
	}
}
