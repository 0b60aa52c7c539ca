package abi

import (
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
)

// A flat request answers HeaderValue as the map of the same request does.
func TestGetHTTPRequestFlat(t *testing.T) {
	in := pluginsdk.HTTPRequest{Method: "POST", URL: "http://h/hooks/c", Query: map[string][]string{"a": {"1"}},
		Header: map[string][]string{"Content-Type": {"application/json"}, "X-Two": {"first", "second"}, "X-Empty": {}, "X-Blank": {""}},
		Body:   []byte(`{"x":1}`), RemoteAddr: "203.0.113.7:1", Timeout: 5}
	var e Encoder
	PutHTTPRequest(&e, &in)
	var full pluginsdk.HTTPRequest
	var flat FlatHTTPRequest
	GetHTTPRequest(NewDecoder(e.B), &full)
	d := NewDecoder(e.B)
	if GetHTTPRequestFlat(d, &flat); d.Err() != nil || len(d.Rest()) != 0 {
		t.Fatalf("decode: %v, %d bytes left", d.Err(), len(d.Rest()))
	}
	if flat.Header != nil || string(flat.Body) != `{"x":1}` || flat.RemoteAddr != in.RemoteAddr || flat.Timeout != 5 || flat.Query["a"][0] != "1" {
		t.Fatalf("flat request %+v", flat)
	}
	for _, name := range []string{"Content-Type", "X-Two", "X-Empty", "X-Blank", "Missing", "content-type"} {
		if got, want := flat.HeaderValue(name), full.HeaderValue(name); got != want {
			t.Errorf("HeaderValue(%q) = %q, want %q", name, got, want)
		}
	}
	// A truncated envelope is an error, as for the map.
	for n := 0; n < len(e.B); n++ {
		d := NewDecoder(e.B[:n])
		var r FlatHTTPRequest
		if GetHTTPRequestFlat(d, &r); d.Err() == nil {
			t.Fatalf("envelope cut at %d of %d decoded", n, len(e.B))
		}
	}
}
