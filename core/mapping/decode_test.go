package mapping

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    any
		wantErr string
	}{
		{name: "object", in: `{"a": 1, "b": [true, null, "x"]}`, want: map[string]any{"a": json.Number("1"), "b": []any{true, nil, "x"}}},
		{name: "number keeps its text", in: `12345678901234567890`, want: json.Number("12345678901234567890")},
		{name: "fraction keeps its text", in: ` 12.50 `, want: json.Number("12.50")},
		{name: "exponent keeps its text", in: `-0.5E+10`, want: json.Number("-0.5E+10")},
		{name: "top-level array", in: `[1, {"a": {}}, []]`, want: []any{json.Number("1"), map[string]any{"a": map[string]any{}}, []any{}}},
		{name: "escapes", in: `"a\"\\\/\b\f\n\r\t\u00e9\u20AC"`, want: "a\"\\/\b\f\n\r\té€"},
		{name: "surrogate pair", in: `"\ud83d\ude00"`, want: "😀"},
		{name: "lone surrogate", in: `"\ud83dx"`, want: "\ufffdx"},
		{name: "two high surrogates", in: `"\ud83d\ud83d\ude00"`, want: "\ufffd😀"},
		{name: "invalid UTF-8", in: "\"a\xffb\"", want: "a\ufffdb"},
		{name: "raw UTF-8", in: `{"città": "Roma – ok"}`, want: map[string]any{"città": "Roma – ok"}},
		{name: "duplicate key: last wins", in: `{"a": 1, "a": 2}`, want: map[string]any{"a": json.Number("2")}},
		{name: "empty", in: ``, wantErr: "decode JSON: empty payload"},
		{name: "blank", in: "  \n", wantErr: "decode JSON: empty payload"},
		{name: "missing value", in: `{"a": }`, wantErr: `decode JSON: unexpected '}', want a value at offset 6`},
		{name: "truncated object", in: `{"a": 1`, wantErr: `decode JSON: unexpected end of input, want ',' or '}' in an object`},
		{name: "truncated string", in: `"abc`, wantErr: `decode JSON: unexpected end of input, want '"' to end the string`},
		{name: "unquoted key", in: `{a: 1}`, wantErr: `decode JSON: unexpected 'a', want a string key at offset 1`},
		{name: "trailing comma", in: `[1,]`, wantErr: `decode JSON: unexpected ']', want a value at offset 3`},
		{name: "missing colon", in: `{"a" 1}`, wantErr: `decode JSON: unexpected '1', want ':' after an object key at offset 5`},
		{name: "leading zero", in: `01`, wantErr: `decode JSON: unexpected data after the value at offset 1`},
		{name: "bare fraction", in: `1.`, wantErr: `decode JSON: unexpected end of input, want a digit after '.'`},
		{name: "bare exponent", in: `1e+`, wantErr: `decode JSON: unexpected end of input, want a digit in the exponent`},
		{name: "plus sign", in: `+1`, wantErr: `decode JSON: unexpected '+', want a value at offset 0`},
		{name: "minus alone", in: `-`, wantErr: `decode JSON: unexpected end of input, want a digit`},
		{name: "control character", in: "\"a\tb\"", wantErr: `decode JSON: control character '\t' in a string at offset 2`},
		{name: "bad escape", in: `"\x"`, wantErr: `decode JSON: unexpected 'x', want an escape (one of " \ / b f n r t u) at offset 2`},
		{name: "bad unicode escape", in: `"\u12G4"`, wantErr: `decode JSON: bad \u escape "12G4" at offset 3`},
		{name: "short unicode escape", in: `"\u12"`, wantErr: `decode JSON: unexpected end of input, want four hex digits after \u`},
		{name: "bad literal", in: `tru`, wantErr: `decode JSON: unexpected 't', want a value at offset 0`},
		{name: "trailing data", in: `{"a": 1} {"b": 2}`, wantErr: "decode JSON: unexpected data after the value at offset 9"},
		{name: "byte order mark", in: "\ufeff{}", wantErr: `decode JSON: unexpected '\ufeff', want a value at offset 0`},
		{name: "too deep", in: strings.Repeat("[", maxDepth+1), wantErr: "decode JSON: nesting deeper than 10000 at offset 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Decode(%.40q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				if json.Valid([]byte(tt.in)) {
					t.Errorf("encoding/json accepts %.40q", tt.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			checkSameAsEncodingJSON(t, []byte(tt.in))
		})
	}
}

func TestDecodeDeepButAllowed(t *testing.T) {
	in := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if _, err := Decode([]byte(in)); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeTestdataLikeEncodingJSON(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			b, err := os.ReadFile("testdata/" + e.Name())
			if err != nil {
				t.Fatal(err)
			}
			checkSameAsEncodingJSON(t, b)
		}
	}
}

// checkSameAsEncodingJSON holds Decode to its promise: the same verdict and
// the same value as encoding/json with UseNumber.
func checkSameAsEncodingJSON(t testing.TB, in []byte) {
	t.Helper()
	got, err := Decode(in)
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var want any
	if !json.Valid(in) {
		if err == nil {
			t.Fatalf("Decode accepts %q, which encoding/json rejects", in)
		}
		return
	}
	if err != nil {
		t.Fatalf("Decode rejects %q, which encoding/json accepts: %v", in, err)
	}
	if err := dec.Decode(&want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode(%q) = %#v, encoding/json gives %#v", in, got, want)
	}
}
