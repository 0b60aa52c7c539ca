package stats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

func TestMembers(t *testing.T) {
	tests := []struct {
		in   string
		want string // key=kind:value;...
		err  bool
	}{
		{`{}`, ``, false},
		{` { "a" : 1 , "b":"x\"y", "c":[1,{"d":"]"}], "e":{"f":{}} ,"g":true,"h":null, "i":-1.5e3}`,
			`a=number:1;b=string:"x\"y";c=array:[1,{"d":"]"}];e=object:{"f":{}};g=boolean:true;h=null:null;i=number:-1.5e3;`, false},
		{`{"k\u00e9":""}`, `k\u00e9=string:"";`, false},
		{`[1]`, ``, true},
		{`{"a":}`, ``, true},
		{`{"a":1`, ``, true},
		{`{"a" 1}`, ``, true},
		{`{"a":nul}`, ``, true},
		{`{"a":"unterminated}`, ``, true},
	}
	for _, tt := range tests {
		ms, err := members([]byte(tt.in), nil)
		if (err != nil) != tt.err {
			t.Errorf("%s: err %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if tt.err {
			continue
		}
		var b bytes.Buffer
		for _, m := range ms {
			fmt.Fprintf(&b, "%s=%s:%s;", m.key, typeNames[m.kind], m.val)
		}
		if b.String() != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.in, b.String(), tt.want)
		}
	}
}

func TestSplitRecord(t *testing.T) {
	tests := []struct{ in, record, entity string }{
		{`{"file":"a.csv","line":2,"entity":"contacts","record":{"x":1}}`, `{"x":1}`, "contacts"},
		{`{"entity":"c\"s","record":{}}`, `{}`, `c"s`},
		{`{"entity":"contacts","record":"not an object"}`, "", ""},
		{`{"record":{"x":1}}`, "", ""},
		{`{"entity":1,"record":{"x":1}}`, "", ""},
	}
	for _, tt := range tests {
		ms, _ := members([]byte(tt.in), nil)
		rec, ent, ok := splitRecord(ms)
		if ok != (tt.record != "") || (ok && (string(rec) != tt.record || ent != tt.entity)) {
			t.Errorf("%s: %s %q %v, want %s %q", tt.in, rec, ent, ok, tt.record, tt.entity)
		}
	}
}

// FuzzMembers checks the scanner against encoding/json: for any valid JSON
// object it finds every top-level member, each value is valid JSON of the
// kind it reports, and nothing panics on invalid input.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[{"c":"]}"}],"d":null}`, `{"a":"\\\"","b":true}`, `{"file":"x","entity":"e","record":{"k":""}}`, `[]`, `{"a":1e5,"b":-0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := members(data, nil)
		if !json.Valid(data) {
			return
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil || obj == nil {
			return // valid JSON but not an object (null decodes to a nil map)
		}
		if err != nil {
			t.Fatalf("valid object %q: %v", data, err)
		}
		keys := map[string]bool{}
		for _, m := range ms {
			k := string(m.key)
			if m.keyEsc {
				k = unescapeKey(m.key)
			}
			// encoding/json turns each byte of invalid UTF-8 in a key into
			// U+FFFD, so keys that differ only there are one key in its map;
			// the scanner keeps the raw bytes. Compare under json's identity.
			k = string([]rune(k))
			keys[k] = true
			if !json.Valid(m.val) {
				t.Fatalf("%q: member %q value %q is not valid JSON", data, k, m.val)
			}
			// UseNumber: a number too large for a float64 (1e700) is still
			// a JSON number, which Unmarshal into any would refuse.
			var v any
			d := json.NewDecoder(bytes.NewReader(m.val))
			d.UseNumber()
			_ = d.Decode(&v)
			var want kind
			switch v.(type) {
			case nil:
				want = kindNull
			case string:
				want = kindString
			case json.Number:
				want = kindNumber
			case bool:
				want = kindBool
			case map[string]any:
				want = kindObject
			case []any:
				want = kindArray
			}
			if m.kind != want {
				t.Fatalf("%q: member %q kind %s, want %s", data, k, typeNames[m.kind], typeNames[want])
			}
		}
		if len(keys) != len(obj) {
			t.Fatalf("%q: found keys %v, encoding/json %d", data, keys, len(obj))
		}
	})
}
