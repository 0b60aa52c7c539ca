package fields

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const doc = `{
  "type": "track", "event": "Order Completed", "userId": "u-1",
  "context": {"traits": {"email": "ada@example.com", "name": "Ada"}, "ip": "10.0.0.1"},
  "properties": {"revenue": 12.5, "items": [{"sku": "a"}, {"sku": "b\"q"}], "ok": true, "none": null},
  "we\u0069rd": 1, "a.b": {"c d": 2}, "dup": 1, "dup": 2
}`

func TestExtract(t *testing.T) {
	tests := []struct {
		path string
		want string // "" = absent
	}{
		{"$", strings.TrimSpace(doc)},
		{"$.type", `"track"`},
		{"$.context.traits.email", `"ada@example.com"`},
		{"$.context.traits", `{"email": "ada@example.com", "name": "Ada"}`},
		{"$.properties.revenue", `12.5`},
		{"$.properties.items[1].sku", `"b\"q"`},
		{"$.properties.items[2].sku", ``},
		{"$.properties.ok", `true`},
		{"$.properties.none", `null`},
		{"$.weird", `1`},
		{"$['a.b']['c d']", `2`},
		{`$["a.b"].x`, ``},
		{"$.dup", `2`},
		{"$.missing.deeper", ``},
		{"$.type.notobject", ``},
	}
	paths := make([]string, len(tests))
	for i, tt := range tests {
		paths[i] = tt.path
	}
	p := MustCompile(paths...)
	out := make([][]byte, p.Len())
	if err := p.Extract([]byte(doc), out); err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		if string(out[i]) != tt.want {
			t.Errorf("%s = %q, want %q", tt.path, out[i], tt.want)
		}
		if tt.want == "" && out[i] != nil {
			t.Errorf("%s: absent path gave non-nil %q", tt.path, out[i])
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, p := range []string{"type", "$.", "$..a", "$[", "$[-1]", "$[x]", "$['a]", "$.a\x00"} {
		if _, err := Compile(p); err == nil {
			t.Errorf("Compile(%q) succeeded, want an error", p)
		}
	}
}

func TestValidMatchesEncodingJSON(t *testing.T) {
	cases := []string{
		doc, `[]`, `{}`, `""`, `0`, `-0.5e+10`, `[1,2,[3,{"a":[]}]]`, ` true `,
		``, ` `, `{`, `{"a"}`, `{"a":1,}`, `[1,]`, `01`, `1.`, `1e`, `-`, `tru`, `nul`, `"\x"`,
		"\"a\x01\"", `"\u12"`, `{"a":1}x`, `[1 2]`, `{"a" 1}`, `{1:2}`, `"abc`, `.5`, `+1`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	}
	for _, c := range cases {
		if got, want := Valid([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("Valid(%.40q) = %v, json.Valid = %v", c, got, want)
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, s := range []string{doc, `[1,{"a":"b\n"}]`, `{"x":-1.5e3}`, `"\ud83d\ude00"`} {
		f.Add([]byte(s))
	}
	p := MustCompile("$.a", "$[0]", "$.x")
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 0 && b[0] == '[' && bytes.Count(b, []byte("[")) > 9000 {
			t.Skip() // encoding/json's depth limit is counted differently
		}
		out := make([][]byte, p.Len())
		err := p.Extract(b, out)
		if (err == nil) != json.Valid(b) {
			t.Fatalf("Extract err = %v, json.Valid = %v", err, json.Valid(b))
		}
		for _, v := range out {
			if v != nil && !json.Valid(v) {
				t.Fatalf("extracted invalid value %q", v)
			}
		}
	})
}

func TestValues(t *testing.T) {
	if s, ok := String([]byte(`"a\"b\u00e9"`)); !ok || s != "a\"bé" {
		t.Errorf("String = %q, %v", s, ok)
	}
	if _, ok := String([]byte(`12`)); ok {
		t.Error("String of a number succeeded")
	}
	if !Equal([]byte(`"track"`), "track") || Equal([]byte(`"track"`), "page") || Equal(nil, "") {
		t.Error("Equal")
	}
	if !Equal([]byte(`"tr\u0061ck"`), "track") {
		t.Error("Equal with escapes")
	}
	if f, ok := Float([]byte(`-1.5e2`)); !ok || f != -150 {
		t.Errorf("Float = %v, %v", f, ok)
	}
	if v, ok := Bool([]byte(`true`)); !ok || !v {
		t.Error("Bool")
	}
	if !IsNull(nil) || !IsNull([]byte("null")) || IsNull([]byte("0")) {
		t.Error("IsNull")
	}
}

func TestObject(t *testing.T) {
	o := NewObject([]byte("prefix:"))
	o.String("s", "quote\" back\\ nl\n ctl\x01 bad\xff é")
	o.Raw("raw", []byte(`{"x":[1,2]}`))
	o.Raw("absent", nil)
	o.Int("i", -3)
	o.Float("f", 0.25)
	o.Bool("b", true)
	o.Null("n")
	out := o.Bytes()
	if !bytes.HasPrefix(out, []byte("prefix:")) {
		t.Fatalf("prefix lost: %q", out)
	}
	var got map[string]any
	if err := json.Unmarshal(out[len("prefix:"):], &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	want := map[string]any{
		"s": "quote\" back\\ nl\n ctl\x01 bad\ufffd é", "raw": map[string]any{"x": []any{1.0, 2.0}},
		"absent": nil, "i": -3.0, "f": 0.25, "b": true, "n": nil,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
	if e := NewObject(nil); string(e.Bytes()) != "{}" {
		t.Errorf("empty object = %q", e.Bytes())
	}
}

func BenchmarkExtract1KB(b *testing.B) {
	body := []byte(strings.Repeat(" ", 0) + doc)
	p := MustCompile("$.type", "$.event", "$.userId", "$.context.traits.email", "$.properties.revenue", "$.properties.items[0].sku")
	out := make([][]byte, p.Len())
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := p.Extract(body, out); err != nil {
			b.Fatal(err)
		}
	}
}
