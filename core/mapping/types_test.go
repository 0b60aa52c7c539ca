package mapping

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestParseType(t *testing.T) {
	for _, s := range []string{"", "string", "number", "boolean"} {
		if got, err := ParseType(s); err != nil || string(got) != s {
			t.Errorf("ParseType(%q) = %q, %v", s, got, err)
		}
	}
	_, err := ParseType("int")
	want := `unknown type "int"; use string, number or boolean (or leave it out to keep the value as is)`
	if err == nil || err.Error() != want {
		t.Errorf("ParseType(int) error = %v, want %q", err, want)
	}
}

// TestConvert drives every conversion through Fields.Apply, the way a
// workflow uses it, so that the error text checked is the one users see.
func TestConvert(t *testing.T) {
	tests := []struct {
		name    string
		typ     Type
		payload string
		want    any
		wantErr string
	}{
		{name: "number from number", typ: TypeNumber, payload: `12.5`, want: 12.5},
		{name: "number from integer", typ: TypeNumber, payload: `100`, want: 100.0},
		{name: "number from exponent", typ: TypeNumber, payload: `1e3`, want: 1000.0},
		{name: "number from string", typ: TypeNumber, payload: `"12.50"`, want: 12.5},
		{name: "number from padded string", typ: TypeNumber, payload: `" 3 "`, want: 3.0},
		{name: "number from signed string", typ: TypeNumber, payload: `"-4.5e1"`, want: -45.0},
		{name: "number from plus string", typ: TypeNumber, payload: `"+.5"`, want: 0.5},
		{name: "number from trailing dot", typ: TypeNumber, payload: `"5."`, want: 5.0},
		{name: "number from word", typ: TypeNumber, payload: `"abc"`, wantErr: `field v: $.v is "abc", not a number`},
		{name: "number from empty string", typ: TypeNumber, payload: `""`, wantErr: `field v: $.v is "", not a number`},
		{name: "number rejects NaN", typ: TypeNumber, payload: `"NaN"`, wantErr: `field v: $.v is "NaN", not a number`},
		{name: "number rejects Inf", typ: TypeNumber, payload: `"Inf"`, wantErr: `field v: $.v is "Inf", not a number`},
		{name: "number rejects hex", typ: TypeNumber, payload: `"0x10"`, wantErr: `field v: $.v is "0x10", not a number`},
		{name: "number rejects underscores", typ: TypeNumber, payload: `"1_000"`, wantErr: `field v: $.v is "1_000", not a number`},
		{name: "number rejects thousands separator", typ: TypeNumber, payload: `"1,000"`, wantErr: `field v: $.v is "1,000", not a number`},
		{name: "number rejects bare exponent", typ: TypeNumber, payload: `"1e"`, wantErr: `field v: $.v is "1e", not a number`},
		{name: "number out of range string", typ: TypeNumber, payload: `"1e999"`, wantErr: `field v: $.v is "1e999", out of range for a number`},
		{name: "number out of range literal", typ: TypeNumber, payload: `1e999`, wantErr: `field v: $.v is 1e999, out of range for a number`},
		{name: "number from bool", typ: TypeNumber, payload: `true`, wantErr: `field v: $.v is true, not a number`},
		{name: "number from object", typ: TypeNumber, payload: `{"a":1}`, wantErr: `field v: $.v is an object, not a number`},
		{name: "number from array", typ: TypeNumber, payload: `[1]`, wantErr: `field v: $.v is an array, not a number`},
		{name: "number error truncates long strings", typ: TypeNumber, payload: `"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`,
			wantErr: `field v: $.v is "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…", not a number`},

		{name: "boolean from bool", typ: TypeBoolean, payload: `false`, want: false},
		{name: "boolean from Salesforce string", typ: TypeBoolean, payload: `"true"`, want: true},
		{name: "boolean from upper case", typ: TypeBoolean, payload: `"FALSE"`, want: false},
		{name: "boolean from yes", typ: TypeBoolean, payload: `"Yes"`, want: true},
		{name: "boolean from no", typ: TypeBoolean, payload: `"no"`, want: false},
		{name: "boolean from string 1", typ: TypeBoolean, payload: `"1"`, want: true},
		{name: "boolean from string 0 padded", typ: TypeBoolean, payload: `" 0 "`, want: false},
		{name: "boolean from number 1", typ: TypeBoolean, payload: `1`, want: true},
		{name: "boolean from number 0.0", typ: TypeBoolean, payload: `0.0`, want: false},
		{name: "boolean from number 2", typ: TypeBoolean, payload: `2`, wantErr: `field v: $.v is 2, not a boolean`},
		{name: "boolean from maybe", typ: TypeBoolean, payload: `"maybe"`, wantErr: `field v: $.v is "maybe", not a boolean`},
		{name: "boolean from object", typ: TypeBoolean, payload: `{}`, wantErr: `field v: $.v is an object, not a boolean`},

		{name: "string from string", typ: TypeString, payload: `" keep  spaces "`, want: " keep  spaces "},
		{name: "string from fraction", typ: TypeString, payload: `12.50`, want: "12.5"},
		{name: "string from exponent", typ: TypeString, payload: `1e6`, want: "1000000"},
		{name: "string from small exponent", typ: TypeString, payload: `1.5e-7`, want: "0.00000015"},
		{name: "string from big integer", typ: TypeString, payload: `12345678901234567890`, want: "12345678901234567890"},
		{name: "string from negative integer", typ: TypeString, payload: `-42`, want: "-42"},
		{name: "string from huge", typ: TypeString, payload: `1e300`, want: "1e+300"},
		{name: "string from bool", typ: TypeString, payload: `true`, want: "true"},
		{name: "string from object", typ: TypeString, payload: `{"b": [1, "<x>"], "a": null}`, want: `{"a":null,"b":[1,"<x>"]}`},
		{name: "string from array", typ: TypeString, payload: `[1.50, "a"]`, want: `[1.50,"a"]`},

		{name: "any keeps json.Number", typ: TypeAny, payload: `12.50`, want: json.Number("12.50")},
		{name: "any keeps object", typ: TypeAny, payload: `{"a": true}`, want: map[string]any{"a": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := CompileFields(map[string]FieldSpec{"v": {Path: "$.v", Type: tt.typ}})
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.Apply(mustDecode(t, `{"v": `+tt.payload+`}`))
			checkResult(t, got["v"], err, tt.want, tt.wantErr)
		})
	}
}

func TestToString(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{nil, ""},
		{1e21, "1e+21"},
		{1e20, "100000000000000000000"},
		{-0.1, "-0.1"},
		{math.Inf(1), "+Inf"},
		{int64(7), "7"},
		{uint8(7), "7"},
		{float32(0.5), "0.5"},
		{json.Number("-1.50e2"), "-150"},
		{time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), "2024-05-01T10:00:00Z"},
		{[]string{"a"}, `["a"]`},
		{map[string]any{"k": "a&b"}, `{"k":"a&b"}`},
	}
	for _, tt := range tests {
		if got := toString(tt.in); got != tt.want {
			t.Errorf("toString(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func mustDecode(t testing.TB, s string) any {
	t.Helper()
	v, err := Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func checkResult(t *testing.T, got any, err error, want any, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || err.Error() != wantErr {
			t.Fatalf("error = %v, want %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !deepEqualStrict(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

// deepEqualStrict is reflect.DeepEqual spelled out, so that a float64 100
// and a json.Number "100" are different: the type of a result matters here.
func deepEqualStrict(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if yv, ok := y[k]; !ok || !deepEqualStrict(x[k], yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqualStrict(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}
