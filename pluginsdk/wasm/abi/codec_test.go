package abi

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

func TestRoundTrip(t *testing.T) {
	at := time.Date(2024, 11, 25, 10, 15, 30, 123, time.UTC)
	tests := []struct {
		name string
		in   any
		put  func(*Encoder, any)
		get  func(*Decoder) any
	}{
		{"http request", &pluginsdk.HTTPRequest{Method: "POST", URL: "https://h/x?a=1", Path: "/v1",
			Query: map[string][]string{"a": {"1", "2"}, "e": {""}}, Header: map[string][]string{"X-A": {"b"}},
			Body: []byte(`{"k":1}`), RemoteAddr: "1.2.3.4:5", Timeout: 3 * time.Second},
			func(e *Encoder, v any) { PutHTTPRequest(e, v.(*pluginsdk.HTTPRequest)) },
			func(d *Decoder) any { var r pluginsdk.HTTPRequest; GetHTTPRequest(d, &r); return &r }},
		{"empty http request", &pluginsdk.HTTPRequest{},
			func(e *Encoder, v any) { PutHTTPRequest(e, v.(*pluginsdk.HTTPRequest)) },
			func(d *Decoder) any { var r pluginsdk.HTTPRequest; GetHTTPRequest(d, &r); return &r }},
		{"receive result", &pluginsdk.ReceiveResult{
			Events:   []pluginsdk.Event{{Payload: json.RawMessage(`{"a":1}`), DedupKey: "m1", Type: "track", Time: at}, {Payload: json.RawMessage(`[]`)}},
			Response: pluginsdk.HTTPResponse{Status: 200, Header: map[string][]string{"Content-Type": {"application/json"}}, Body: []byte("ok")},
			Rejected: []pluginsdk.ItemError{{Index: 3, Message: "bad"}}},
			func(e *Encoder, v any) { PutReceiveResult(e, v.(*pluginsdk.ReceiveResult)) },
			func(d *Decoder) any { var r pluginsdk.ReceiveResult; GetReceiveResult(d, &r); return &r }},
		{"fetch request", &pluginsdk.FetchRequest{Entity: "Case", Cursor: []byte("c1"), Limit: 100},
			func(e *Encoder, v any) { PutFetchRequest(e, v.(*pluginsdk.FetchRequest)) },
			func(d *Decoder) any { var r pluginsdk.FetchRequest; GetFetchRequest(d, &r); return &r }},
		{"fetch result", &pluginsdk.FetchResult{Events: []pluginsdk.Event{{Payload: json.RawMessage(`1`)}}, Cursor: []byte("c2"), More: true},
			func(e *Encoder, v any) { PutFetchResult(e, v.(*pluginsdk.FetchResult)) },
			func(d *Decoder) any { var r pluginsdk.FetchResult; GetFetchResult(d, &r); return &r }},
		{"perform request", &pluginsdk.PerformRequest{Action: "post", Input: json.RawMessage(`{"b":2}`), IdempotencyKey: "run/task", Attempt: 2},
			func(e *Encoder, v any) { PutPerformRequest(e, v.(*pluginsdk.PerformRequest)) },
			func(d *Decoder) any { var r pluginsdk.PerformRequest; GetPerformRequest(d, &r); return &r }},
		{"perform result", &pluginsdk.PerformResult{Output: json.RawMessage(`{"ok":true}`)},
			func(e *Encoder, v any) { PutPerformResult(e, v.(*pluginsdk.PerformResult)) },
			func(d *Decoder) any { var r pluginsdk.PerformResult; GetPerformResult(d, &r); return &r }},
		{"error", &pluginsdk.Error{Code: "rate_limited", Message: "slow down", Retryable: true, RetryAfter: 20 * time.Second, Status: 429},
			func(e *Encoder, v any) { PutError(e, v.(*pluginsdk.Error)) },
			func(d *Decoder) any { return GetError(d) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Encoder
			tt.put(&e, tt.in)
			d := NewDecoder(append([]byte(nil), e.B...))
			got := tt.get(d)
			if d.Err() != nil {
				t.Fatal(d.Err())
			}
			if len(d.Rest()) != 0 {
				t.Errorf("%d bytes left over", len(d.Rest()))
			}
			if !reflect.DeepEqual(got, tt.in) {
				t.Errorf("round trip:\n got %#v\nwant %#v", got, tt.in)
			}
		})
	}
}

func TestBytesAreCapped(t *testing.T) {
	var e Encoder
	e.Bytes([]byte("ab"))
	e.Bytes([]byte("cd"))
	d := NewDecoder(e.B)
	a := d.Bytes()
	b := d.Bytes()
	_ = append(a, 'X') // must not overwrite b's length prefix or bytes
	if string(b) != "cd" || cap(a) != len(a) {
		t.Errorf("appending to one field changed another: %q (cap %d)", b, cap(a))
	}
}

func FuzzDecoders(f *testing.F) {
	var e Encoder
	PutReceiveResult(&e, &pluginsdk.ReceiveResult{Events: []pluginsdk.Event{{Payload: []byte("{}")}}})
	f.Add(e.B)
	e.Reset()
	PutHTTPRequest(&e, &pluginsdk.HTTPRequest{Method: "GET", Header: map[string][]string{"A": {"b"}}})
	f.Add(e.B)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r1 pluginsdk.ReceiveResult
		GetReceiveResult(NewDecoder(b), &r1)
		var r2 pluginsdk.HTTPRequest
		GetHTTPRequest(NewDecoder(b), &r2)
		var r3 pluginsdk.FetchResult
		GetFetchResult(NewDecoder(b), &r3)
		GetError(NewDecoder(b))
	})
}
