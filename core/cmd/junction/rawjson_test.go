package main

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestRawMembers(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		{`{}`, map[string]string{}, false},
		{` { "a" : 1 , "b":"x]}\"{" ,"c":[{"d":"]"}],"e":null}`, map[string]string{"a": "1", "b": `"x]}\"{"`, "c": `[{"d":"]"}]`, "e": "null"}, false},
		{`{"\u0061":true}`, map[string]string{"a": "true"}, false},
		{`{"a":[1,2}`, nil, true},
		{`{"a" 1}`, nil, true},
		{`{"a":"open}`, nil, true},
		{`[1]`, nil, true},
	}
	for _, tt := range tests {
		ms, err := rawMembers([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("rawMembers(%s): error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		got := map[string]string{}
		for _, m := range ms {
			got[m.key] = string(m.value)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("rawMembers(%s) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// FuzzRawMembers: on any object encoding/json accepts, the splitter finds
// the same members.
func FuzzRawMembers(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[{"c":"]"}]}`, `{"k":"\"}"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want map[string]json.RawMessage
		if json.Unmarshal([]byte(s), &want) != nil || want == nil {
			return
		}
		ms, err := rawMembers([]byte(s))
		if err != nil {
			t.Fatalf("rawMembers(%q): %v", s, err)
		}
		got := map[string]json.RawMessage{}
		for _, m := range ms {
			got[m.key] = m.value
		}
		if len(got) != len(want) {
			t.Fatalf("rawMembers(%q): %d members, want %d", s, len(got), len(want))
		}
		for k, v := range want {
			if string(got[k]) != string(v) {
				t.Fatalf("rawMembers(%q)[%q] = %s, want %s", s, k, got[k], v)
			}
		}
	})
}
