package main

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestWithoutMember(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"writeKey":"k"}`, `{}`},
		{`{"writeKey":"k","a":1}`, `{"a":1}`},
		{`{"a":1,"writeKey":"k"}`, `{"a":1}`},
		{`{"a":1, "writeKey" : "k" , "b":[1,{"writeKey":2}]}`, `{"a":1, "b":[1,{"writeKey":2}]}`},
		{`{ "a":{"x":"}"},"writeKey":"k",  "b":"\"writeKey\"" }`, `{ "a":{"x":"}"},"b":"\"writeKey\"" }`},
		{`{"writeKey":"k","writeKey":"k2","c":true}`, `{"c":true}`},
		{`{"write\u004bey":"k","c":null}`, `{"c":null}`},
		{`{"a":-1.5e3,"writeKey":"k"}`, `{"a":-1.5e3}`},
		{`{"a":1}`, `{"a":1}`},
		{`{}`, `{}`},
	}
	for _, tt := range tests {
		got, ok := withoutMember([]byte(tt.in), "writeKey")
		if !ok || string(got) != tt.want {
			t.Errorf("withoutMember(%s) = %s, %v; want %s", tt.in, got, ok, tt.want)
		}
	}
	for _, bad := range []string{`[1]`, `{"a"`, `{"a":1`, `"x"`, ``} {
		if _, ok := withoutMember([]byte(bad), "writeKey"); ok {
			t.Errorf("withoutMember(%q) claimed success", bad)
		}
	}
}

// FuzzWithoutMember: on any valid object the result is the same object
// minus the key, as encoding/json sees it.
//
//	go test -run '^$' -fuzz '^FuzzWithoutMember$' -fuzztime 20s ./plugins/segment
func FuzzWithoutMember(f *testing.F) {
	f.Add([]byte(`{"a":1, "writeKey" : "k" , "b":[1,{"writeKey":2}]}`))
	f.Add(compact(f, "identify.json"))
	f.Fuzz(func(t *testing.T, obj []byte) {
		var before map[string]any
		if json.Unmarshal(obj, &before) != nil || before == nil {
			return
		}
		out, ok := withoutMember(obj, "writeKey")
		if !ok {
			t.Fatalf("withoutMember(%q) failed on a valid object", obj)
		}
		var after map[string]any
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("withoutMember(%q) = %q: %v", obj, out, err)
		}
		delete(before, "writeKey")
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("withoutMember(%q) = %q", obj, out)
		}
	})
}
