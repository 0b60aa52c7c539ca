package abi

import (
	"reflect"
	"testing"
)

// Whatever the cache holds, MultiCached writes what Multi would: the same
// entries, decoded.
func TestMultiCached(t *testing.T) {
	shared := map[string][]string{"Content-Type": {"application/json"}}
	steps := []struct {
		name string
		m    map[string][]string
		hit  bool
	}{
		{"first", shared, false},
		{"same map", shared, true},
		{"equal map", map[string][]string{"Content-Type": {"application/json"}}, true},
		{"other value", map[string][]string{"Content-Type": {"text/xml"}}, false},
		{"again", map[string][]string{"Content-Type": {"text/xml"}}, true},
		{"extra key", map[string][]string{"Content-Type": {"text/xml"}, "Etag": {`"1"`}}, false},
		{"key swapped", map[string][]string{"Content-Type": {"text/xml"}, "Etag2": {`"1"`}}, false},
		{"more values", map[string][]string{"Content-Type": {"text/xml"}, "Etag2": {`"1"`, `"2"`}}, false},
		{"fewer values", map[string][]string{"Content-Type": {"text/xml"}, "Etag2": {}}, false},
		{"nil", nil, false},
		{"empty", map[string][]string{}, true},
		{"shared again", shared, false},
	}
	var c MultiCache
	for _, s := range steps {
		before := append([]byte(nil), c.enc...)
		var e Encoder
		e.U8(7) // MultiCached appends after what the encoder holds
		e.MultiCached(s.m, &c)
		d := NewDecoder(e.B)
		if d.U8() != 7 {
			t.Fatalf("%s: prefix lost", s.name)
		}
		got := d.Multi()
		if d.Err() != nil || len(d.Rest()) != 0 {
			t.Fatalf("%s: decode: %v, %d bytes left", s.name, d.Err(), len(d.Rest()))
		}
		if len(s.m) == 0 && got != nil || len(s.m) > 0 && !reflect.DeepEqual(got, s.m) {
			t.Errorf("%s: wrote %v, want %v", s.name, got, s.m)
		}
		if hit := before != nil && string(before) == string(e.B[1:]) && RawMulti(before).equal(s.m); hit != s.hit {
			t.Errorf("%s: served from the cache %v, want %v", s.name, hit, s.hit)
		}
	}
	// A header set too large to be worth keeping is encoded and not kept.
	big := map[string][]string{}
	for i := range 100 {
		big[string(rune('a'+i%26))+string(rune('a'+i/26))] = []string{"a value of some length"}
	}
	var e Encoder
	e.MultiCached(big, &c)
	if c.enc != nil {
		t.Errorf("kept a %d-byte encoding", len(e.B))
	}
	if got := NewDecoder(e.B).Multi(); !reflect.DeepEqual(got, big) {
		t.Errorf("large map wrote %d entries, want %d", len(got), len(big))
	}
}
